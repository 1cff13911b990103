// The sequences of the workspace, a page at a time, each with its counts per status kept
// live by one subscription for the whole page (sequencesStatusCounts).
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { request } from "./api.js";
import { SEQUENCES, SEQUENCES_COUNTS } from "./documents.js";
import { STATUSES, countsByStatus, formatNumber, statusLabel } from "./format.js";

const PAGE = 50;
const SHOWN = STATUSES.filter((s) => s !== "REMOVED");

export function SequenceList({ token, live }) {
  const [page, setPage] = useState({ first: PAGE });
  const [data, setData] = useState(null);
  const [counts, setCounts] = useState({});
  const [ticked, setTicked] = useState({});
  const [error, setError] = useState(null);

  useEffect(() => {
    let gone = false;
    request(token, SEQUENCES, page)
      .then((d) => {
        if (gone) return;
        setData(d.sequences);
        const found = {};
        for (const { node } of d.sequences.edges) found[node.id] = countsByStatus(node.statusCounts);
        setCounts(found);
      })
      .catch((e) => !gone && setError(e.message));
    return () => { gone = true; };
  }, [page]);

  const ids = data ? data.edges.map((e) => e.node.id) : [];
  useEffect(() => {
    if (!ids.length) return undefined;
    return live.subscribe(
      { query: SEQUENCES_COUNTS, variables: { ids } },
      ({ sequencesStatusCounts: m }) => {
        const fresh = countsByStatus(m.counts);
        setCounts((old) => {
          const before = old[m.sequenceId] || {};
          const changed = SHOWN.filter((s) => (before[s] || 0) !== (fresh[s] || 0));
          if (changed.length) {
            setTicked((t) => ({ ...t, [m.sequenceId]: new Set(changed) }));
            setTimeout(() => setTicked((t) => ({ ...t, [m.sequenceId]: new Set() })), 2000);
          }
          return { ...old, [m.sequenceId]: fresh };
        });
      },
      (e) => setError(e.message),
    );
  }, [ids.join(",")]);

  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!data) return html`<p aria-busy="true">Loading sequences…</p>`;
  return html`
    <h1>Sequences</h1>
    <table class="grid sequences">
      <caption>${formatNumber(data.totalCount)} sequences; counts per status, live</caption>
      <thead><tr>
        <th scope="col">Sequence</th><th scope="col">Steps</th>
        ${SHOWN.map((s) => html`<th scope="col" class="num">${statusLabel(s)}</th>`)}
        <th scope="col" class="num">Total</th>
      </tr></thead>
      <tbody>
        ${data.edges.map(({ node }) => {
          const c = counts[node.id] || {};
          const total = SHOWN.reduce((sum, s) => sum + (c[s] || 0), 0);
          const hot = ticked[node.id] || new Set();
          return html`<tr data-sequence=${node.id}>
            <th scope="row"><a href=${`#/sequences/${encodeURIComponent(node.id)}`}>${node.name}</a>
              ${!node.active && html` <span class="tag">off</span>`}
              ${node.archived && html` <span class="tag">archived</span>`}</th>
            <td class="num">${node.steps.length}</td>
            ${SHOWN.map((s) => html`<td class=${`num ${hot.has(s) ? "tick" : ""}`} data-status=${s}>${formatNumber(c[s])}</td>`)}
            <td class="num">${formatNumber(total)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    <nav class="pager" aria-label="Sequence pages">
      <button type="button" disabled=${!data.pageInfo.hasPreviousPage}
        onClick=${() => setPage({ last: PAGE, before: data.pageInfo.startCursor })}>Previous</button>
      <button type="button" disabled=${!data.pageInfo.hasNextPage}
        onClick=${() => setPage({ first: PAGE, after: data.pageInfo.endCursor })}>Next</button>
    </nav>`;
}
