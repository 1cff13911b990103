// Per-step funnel (Sequence.stepCounts, kept live by sequenceStepCounts).
import { html } from "./html.js";
import { formatNumber } from "./format.js";

export function Funnel({ steps }) {
  if (!steps || !steps.length) return null;
  const top = Math.max(1, ...steps.map((s) => s.reached));
  return html`
    <section class="funnel" aria-labelledby="funnel-title">
      <h2 id="funnel-title">Funnel</h2>
      <ol>
        ${steps.map((s) => html`<li>
          <div class="funnel-head">
            <span>Step ${s.position} · ${s.channel === "SMS" ? "SMS" : "Email"}</span>
            <strong>${formatNumber(s.reached)} reached</strong>
          </div>
          <div class="bar" aria-hidden="true"><span style=${{ width: `${(100 * s.reached) / top}%` }}></span></div>
          <p class="muted small">${formatNumber(s.active)} active · ${formatNumber(s.paused)} paused ·
            ${formatNumber(s.finished.total)} finished (${formatNumber(s.finished.responded)} responded) ·
            ${formatNumber(s.bounced + s.failed)} bounced/failed · ${formatNumber(s.notSent)} not sent</p>
        </li>`)}
      </ol>
    </section>`;
}
