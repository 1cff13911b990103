// The Contacts tab's filters: step, enrolled by, search, enrolled-at range (the status is
// the tab bar's), and how they become the API's EnrollmentFilter.
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { dayAfter, dayStart } from "./format.js";

export const NO_FILTERS = { status: null, step: "", enrolledBy: "", search: "", from: "", to: "" };

export const hasOtherFilters = (f) => Boolean(f.step || f.enrolledBy || f.search || f.from || f.to);

// ``withStatus``: the tab's status too (the rows, a bulk selection); without it, what the
// tab bar counts (every status, removed ones included, for the Removed tab's count).
export function apiFilter(f, withStatus = true) {
  const filter = {};
  if (withStatus && f.status) filter.statuses = [f.status];
  filter.includeRemoved = !withStatus || f.status === "REMOVED";
  if (f.step) filter.steps = [Number(f.step)];
  if (f.enrolledBy) filter.enrolledByIds = [f.enrolledBy];
  if (f.search.trim()) filter.search = f.search.trim();
  if (f.from) filter.enrolledAfter = dayStart(f.from);
  if (f.to) filter.enrolledBefore = dayAfter(f.to);
  return filter;
}

export function Filters({ filters, onChange, steps, users }) {
  const [search, setSearch] = useState(filters.search);
  useEffect(() => {
    if (search === filters.search) return undefined;
    const timer = setTimeout(() => onChange({ ...filters, search }), 300);
    return () => clearTimeout(timer);
  }, [search]);
  const set = (key) => (e) => onChange({ ...filters, [key]: e.currentTarget.value });
  return html`
    <form class="filters" role="search" aria-label="Filter contacts" onSubmit=${(e) => {
      e.preventDefault();
      onChange({ ...filters, search });
    }}>
      <div class="field grow">
        <label for="f-search">Search</label>
        <input id="f-search" type="search" placeholder="Name or email" value=${search}
               onInput=${(e) => setSearch(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="f-step">Step</label>
        <select id="f-step" value=${filters.step} onChange=${set("step")}>
          <option value="">Any step</option>
          ${steps.map((s) => html`<option value=${String(s.position)}>Step ${s.position} · ${s.channel === "SMS" ? "SMS" : "Email"}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-user">Enrolled by</label>
        <select id="f-user" value=${filters.enrolledBy} onChange=${set("enrolledBy")}>
          <option value="">Anyone</option>
          ${users.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-from">Enrolled from</label>
        <input id="f-from" type="date" value=${filters.from} onChange=${set("from")} />
      </div>
      <div class="field">
        <label for="f-to">Enrolled until</label>
        <input id="f-to" type="date" value=${filters.to} onChange=${set("to")} />
      </div>
      <button type="button" class="link" disabled=${!hasOtherFilters(filters) && !search}
        onClick=${() => { setSearch(""); onChange({ ...NO_FILTERS, status: filters.status }); }}>Clear filters</button>
    </form>`;
}
