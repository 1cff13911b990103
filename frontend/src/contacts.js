// A sequence's Contacts tab: the tab bar of counts, filters, keyset-paged rows, selection
// (rows, or "all N that match" less exceptions), bulk actions, rows that change live, the
// enrollment drawer and the funnel.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { request } from "./api.js";
import { CHANGES, PAGE, SEQUENCE, SEQUENCES_COUNTS, STEP_COUNTS, TAB_COUNTS } from "./documents.js";
import { Filters, NO_FILTERS, apiFilter, hasOtherFilters } from "./filters.js";
import { BULK_ACTIONS, BulkDialog, MESSAGE_LIMIT, ResultBanner } from "./bulk.js";
import { EnrollmentDrawer } from "./drawer.js";
import { Funnel } from "./funnel.js";
import { Rows } from "./rows.js";
import { STATUSES, countsByStatus, formatNumber, statusLabel, statusText } from "./format.js";

const PAGE_SIZE = 25;
const HIGHLIGHT_MS = 4000;
const NONE = { mode: "ids", ids: new Map(), excluded: new Set() };

const nodes = (connection) => connection.edges.map((e) => e.node);

export function ContactsTab({ token, live, sequenceId, canEdit }) {
  const [meta, setMeta] = useState(null);
  const [error, setError] = useState(null);
  const [filters, setFilters] = useState(NO_FILTERS);
  const [page, setPage] = useState({ first: PAGE_SIZE });
  const [rows, setRows] = useState(null);
  const [pageInfo, setPageInfo] = useState(null);
  const [tabCounts, setTabCounts] = useState({});
  const [liveCounts, setLiveCounts] = useState(null);
  const [steps, setSteps] = useState([]);
  const [selection, setSelection] = useState(NONE);
  const [highlighted, setHighlighted] = useState({});
  const [changes, setChanges] = useState([]);
  const [dialog, setDialog] = useState(null);
  const [outcome, setOutcome] = useState(null);
  const [drawer, setDrawer] = useState(null);
  const recount = useRef(null);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  // the sequence first: its event cursor is read before any row, so every change after
  // the rows were read comes through the subscription (replayed from that cursor)
  useEffect(() => {
    request(token, SEQUENCE, { id: sequenceId })
      .then((d) => {
        if (!d.sequence) { setError("No such sequence in this workspace."); return; }
        setMeta({
          sequence: d.sequence,
          users: nodes(d.users),
          groups: nodes(d.groups),
          sequences: nodes(d.sequences),
        });
        setSteps(d.sequence.stepCounts);
      })
      .catch((e) => setError(e.message));
  }, [sequenceId]);

  const loadCounts = () =>
    request(token, TAB_COUNTS, { seq: sequenceId, filter: apiFilter(filtersRef.current, false) })
      .then((d) => setTabCounts(countsByStatus(d.enrollments.statusCounts)))
      .catch((e) => setError(e.message));

  useEffect(() => { if (meta) loadCounts(); }, [meta, filters.step, filters.enrolledBy, filters.search, filters.from, filters.to]);

  useEffect(() => {
    if (!meta) return undefined;
    let gone = false;
    request(token, PAGE, { seq: sequenceId, filter: apiFilter(filters), ...page })
      .then((d) => {
        if (gone) return;
        setRows(nodes(d.enrollments));
        setPageInfo(d.enrollments.pageInfo);
      })
      .catch((e) => !gone && setError(e.message));
    return () => { gone = true; };
  }, [meta, filters, page]);

  // live: status changes (from the sequence's cursor, resumed from the last one seen on
  // every reconnect), counts per status and per step
  useEffect(() => {
    if (!meta) return undefined;
    const payload = { query: CHANGES, variables: { seq: sequenceId, since: meta.sequence.eventCursor } };
    const stopChanges = live.subscribe(payload, ({ enrollmentStatusChanged: c }) => {
      payload.variables.since = c.cursor;
      const row = c.enrollment;
      setRows((old) => old && old.map((r) => (r.id === row.id ? row : r)));
      setSelection((old) => (old.ids.has(row.id) ? { ...old, ids: new Map(old.ids).set(row.id, row) } : old));
      setHighlighted((old) => ({ ...old, [row.id]: Date.now() }));
      setTimeout(() => setHighlighted((old) => {
        const next = { ...old };
        if (next[row.id] && Date.now() - next[row.id] >= HIGHLIGHT_MS) delete next[row.id];
        return next;
      }), HIGHLIGHT_MS + 50);
      setChanges((old) => [c, ...old].slice(0, 30));
      if (hasOtherFilters(filtersRef.current)) {
        clearTimeout(recount.current);
        recount.current = setTimeout(loadCounts, 400);
      }
    }, (e) => setError(e.message));
    const stopCounts = live.subscribe(
      { query: SEQUENCES_COUNTS, variables: { ids: [sequenceId] } },
      ({ sequencesStatusCounts: m }) => setLiveCounts(countsByStatus(m.counts)),
    );
    const stopSteps = live.subscribe(
      { query: STEP_COUNTS, variables: { seq: sequenceId } },
      ({ sequenceStepCounts: m }) => setSteps(m.steps),
    );
    return () => { stopChanges(); stopCounts(); stopSteps(); clearTimeout(recount.current); };
  }, [meta]);

  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!meta) return html`<p aria-busy="true">Loading…</p>`;

  const counts = !hasOtherFilters(filters) && liveCounts ? liveCounts : tabCounts;
  const allCount = STATUSES.filter((s) => s !== "REMOVED").reduce((n, s) => n + (counts[s] || 0), 0);
  const matching = filters.status ? counts[filters.status] || 0 : allCount;
  const selected = selection.mode === "all" ? Math.max(0, matching - selection.excluded.size) : selection.ids.size;
  const selectionInput = selection.mode === "all"
    ? { sequenceId, filter: apiFilter(filters), excludeIds: [...selection.excluded] }
    : { ids: [...selection.ids.keys()] };

  const changeFilters = (next) => {
    setFilters(next);
    setPage({ first: PAGE_SIZE });
    setSelection(NONE);
  };
  const finished = (action, result) => {
    setDialog(null);
    setOutcome({ action, result });
    setSelection(NONE);
    loadCounts();
  };

  return html`
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Sequences</a> › <span aria-current="page">${meta.sequence.name}</span></nav>
    <h1>${meta.sequence.name} <span class="muted">· Contacts</span></h1>
    <div class="layout">
      <div class="primary-col">
        <div class="tabbar" role="group" aria-label="Status">
          <button type="button" aria-pressed=${filters.status === null} onClick=${() => changeFilters({ ...filters, status: null })}>
            All <span class="count" data-status="ALL">${formatNumber(allCount)}</span></button>
          ${STATUSES.map((s) => html`<button type="button" aria-pressed=${filters.status === s}
              onClick=${() => changeFilters({ ...filters, status: s })}>
            ${statusLabel(s)} <span class="count" data-status=${s}>${formatNumber(counts[s])}</span></button>`)}
        </div>
        <${Filters} filters=${filters} onChange=${changeFilters} steps=${meta.sequence.steps} users=${meta.users} />
        ${outcome && html`<${ResultBanner} outcome=${outcome} token=${token}
            onUndone=${(r) => { setOutcome({ action: { done: "Undone: put back", undo: false }, result: r }); loadCounts(); }}
            onDismiss=${() => setOutcome(null)} />`}
        <${SelectionBar} selection=${selection} selected=${selected} matching=${matching}
          pageRows=${rows || []} canEdit=${canEdit} onAction=${setDialog}
          onSelectAll=${() => setSelection({ mode: "all", ids: new Map(), excluded: new Set() })}
          onClear=${() => setSelection(NONE)} />
        ${rows && html`<${Rows} rows=${rows} selection=${selection} setSelection=${setSelection}
            highlighted=${highlighted} onOpen=${setDrawer} caption=${`${meta.sequence.name}: contacts, ${formatNumber(matching)} matching`} />`}
        ${pageInfo && html`<nav class="pager" aria-label="Contact pages">
          <button type="button" disabled=${!pageInfo.hasPreviousPage}
            onClick=${() => setPage({ last: PAGE_SIZE, before: pageInfo.startCursor })}>Previous page</button>
          <button type="button" disabled=${!pageInfo.hasNextPage}
            onClick=${() => setPage({ first: PAGE_SIZE, after: pageInfo.endCursor })}>Next page</button>
        </nav>`}
      </div>
      <aside class="side-col">
        <${Funnel} steps=${steps} />
        <section class="changes" aria-labelledby="changes-title">
          <h2 id="changes-title">Live changes</h2>
          <div role="log" aria-live="polite" aria-labelledby="changes-title"><ol class="change-log">
            ${changes.length === 0 && html`<li class="muted">None since you opened this page.</li>`}
            ${changes.map((c) => html`<li data-number=${c.number} data-enrollment=${c.enrollment.id}>
              <strong>${c.enrollment.contact.name}</strong>: ${c.fromStatus ? statusLabel(c.fromStatus) : "new"} → ${statusText(c.toStatus, c.reason)}
              ${c.actor && html` <span class="muted">by ${c.actor.name}</span>`}</li>`)}
          </ol></div>
        </section>
      </aside>
    </div>
    ${dialog && html`<${BulkDialog} action=${dialog} count=${selected} selection=${selectionInput}
        meta=${meta} token=${token} onClose=${() => setDialog(null)} onDone=${finished} />`}
    ${drawer && html`<${EnrollmentDrawer} token=${token} enrollmentId=${drawer} onClose=${() => setDrawer(null)} />`}`;
}

function SelectionBar({ selection, selected, matching, pageRows, canEdit, onAction, onSelectAll, onClear }) {
  if (selected === 0 && selection.mode === "ids") return null;
  const allOnPage = pageRows.length > 0 && pageRows.every((r) => selection.ids.has(r.id));
  return html`
    <div class="selection-bar" role="region" aria-label="Selection">
      <p><strong>${formatNumber(selected)}</strong> selected
        ${selection.mode === "all" && html` (all ${formatNumber(matching)} that match${selection.excluded.size ? `, less ${selection.excluded.size}` : ""})`}
        ${selection.mode === "ids" && allOnPage && matching > selection.ids.size && html`
          <button type="button" class="link" onClick=${onSelectAll}>Select all ${formatNumber(matching)} that match</button>`}
        <button type="button" class="link" onClick=${onClear}>Clear selection</button></p>
      ${canEdit
        ? html`<div class="bulk-actions">
            ${BULK_ACTIONS.map((a) => {
              const tooMany = a.key === "message" && selected > MESSAGE_LIMIT;
              return html`<button type="button" disabled=${tooMany || selected === 0}
                title=${tooMany ? `At most ${MESSAGE_LIMIT} contacts` : undefined}
                onClick=${() => onAction(a)}>${a.label}</button>`;
            })}
            ${selected > MESSAGE_LIMIT && html`<span class="muted small">Send message: at most ${MESSAGE_LIMIT} contacts.</span>`}
          </div>`
        : html`<p class="muted">Your token can read only (viewer).</p>`}
    </div>`;
}
