// The rows of one page, with their selection boxes.
import { html } from "./html.js";
import { formatDate, formatDateTime, statusText } from "./format.js";

export function Rows({ rows, selection, setSelection, highlighted, onOpen, caption }) {
  const isSelected = (row) =>
    selection.mode === "all" ? !selection.excluded.has(row.id) : selection.ids.has(row.id);
  const toggle = (row) => {
    if (selection.mode === "all") {
      const excluded = new Set(selection.excluded);
      if (excluded.has(row.id)) excluded.delete(row.id); else excluded.add(row.id);
      setSelection({ ...selection, excluded });
    } else {
      const ids = new Map(selection.ids);
      if (ids.has(row.id)) ids.delete(row.id); else ids.set(row.id, row);
      setSelection({ ...selection, ids });
    }
  };
  const allHere = rows.length > 0 && rows.every(isSelected);
  const togglePage = () => {
    if (selection.mode === "all") {
      const excluded = new Set(selection.excluded);
      for (const r of rows) if (allHere) excluded.add(r.id); else excluded.delete(r.id);
      setSelection({ ...selection, excluded });
    } else {
      const ids = new Map(selection.ids);
      for (const r of rows) if (allHere) ids.delete(r.id); else ids.set(r.id, r);
      setSelection({ ...selection, ids });
    }
  };
  return html`
    <table class="grid contacts">
      <caption class="visually-hidden">${caption}</caption>
      <thead><tr>
        <th scope="col" class="check"><input type="checkbox" aria-label="Select every contact on this page"
          checked=${allHere} onChange=${togglePage} disabled=${rows.length === 0} /></th>
        <th scope="col">Contact</th><th scope="col">Status</th><th scope="col" class="num">Step</th>
        <th scope="col">Enrolled by</th><th scope="col">Enrolled</th><th scope="col">Status changed</th>
      </tr></thead>
      <tbody>
        ${rows.length === 0 && html`<tr><td colspan="7" class="empty">No contacts match these filters.</td></tr>`}
        ${rows.map((row) => html`
          <tr key=${row.id} data-id=${row.id} data-status=${row.status} class=${highlighted[row.id] ? "changed" : ""}>
            <td class="check"><input type="checkbox" aria-label=${`Select ${row.contact.name}`}
              checked=${isSelected(row)} onChange=${() => toggle(row)} /></td>
            <td><button type="button" class="link contact" onClick=${() => onOpen(row.id)}>${row.contact.name}</button>
              <div class="muted small">${row.contact.email || row.contact.phone || ""}</div></td>
            <td><span class=${`status s-${row.status}`}>${statusText(row.status, row.reason)}</span>
              ${row.resumeAt && html`<div class="muted small">resumes ${formatDateTime(row.resumeAt)}</div>`}</td>
            <td class="num">${row.currentStep ?? "—"}</td>
            <td>${row.enrolledBy ? row.enrolledBy.name : "—"}</td>
            <td>${formatDate(row.enrolledAt)}</td>
            <td>${formatDateTime(row.statusChangedAt)}</td>
          </tr>`)}
      </tbody>
    </table>`;
}
