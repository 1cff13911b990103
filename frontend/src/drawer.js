// One enrollment: where it stands and its activity history (Enrollment.activities).
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { request } from "./api.js";
import { ENROLLMENT } from "./documents.js";
import { Modal } from "./dialog.js";
import { formatDateTime, humanize, statusText } from "./format.js";

export function EnrollmentDrawer({ token, enrollmentId, onClose }) {
  const [enrollment, setEnrollment] = useState(null);
  const [activities, setActivities] = useState([]);
  const [error, setError] = useState(null);
  const load = async (after) => {
    try {
      const { node } = await request(token, ENROLLMENT, { id: enrollmentId, after });
      if (!node) { setError("This enrollment is gone."); return; }
      setEnrollment(node);
      setActivities((old) => [...(after ? old : []), ...node.activities.edges.map((e) => e.node)]);
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => { load(null); }, [enrollmentId]);
  const e = enrollment;
  return html`
    <${Modal} className="drawer" title=${e ? e.contact.name : "Enrollment"} onClose=${onClose}>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!e && !error && html`<p aria-busy="true">Loading…</p>`}
      ${e && html`
        <dl class="facts">
          <dt>Status</dt><dd><span class=${`status s-${e.status}`}>${statusText(e.status, e.reason)}</span></dd>
          <dt>Email</dt><dd>${e.contact.email || "—"}</dd>
          <dt>Phone</dt><dd>${e.contact.phone || "—"}</dd>
          <dt>Current step</dt><dd>${e.currentStep ?? "—"}</dd>
          <dt>Enrolled</dt><dd>${formatDateTime(e.enrolledAt)}${e.enrolledBy ? ` by ${e.enrolledBy.name}` : ""}</dd>
          ${e.resumeAt && html`<dt>Resumes</dt><dd>${formatDateTime(e.resumeAt)}</dd>`}
          ${e.nextSend && html`<dt>Next send</dt><dd>Step ${e.nextSend.step} · ${e.nextSend.at ? formatDateTime(e.nextSend.at) : humanize(e.nextSend.waitingFor)}</dd>`}
          ${e.finishedAt && html`<dt>Finished</dt><dd>${formatDateTime(e.finishedAt)}</dd>`}
        </dl>
        <h3>Activity (${e.activities.totalCount})</h3>
        ${activities.length === 0 && html`<p>No activity yet.</p>`}
        <ol class="activity">
          ${activities.map((a) => html`<li>
            <span class="kind">${humanize(a.kind)}</span>
            ${a.step != null && html` <span class="muted">step ${a.step}</span>`}
            <time datetime=${a.at}>${formatDateTime(a.at)}</time>
            ${a.detail && html`<div class="detail">${a.detail}</div>`}
          </li>`)}
        </ol>
        ${e.activities.pageInfo.hasNextPage && html`<button type="button" onClick=${() => load(e.activities.pageInfo.endCursor)}>Load more</button>`}`}
    <//>`;
}
