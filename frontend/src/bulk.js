// Bulk actions on the selected contacts: options, the dry run's answer, then the real call
// (with an idempotency key: a retried click does nothing twice), the skipped reasons after,
// and Undo where the API offers it (undoBulkOperation).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { request } from "./api.js";
import { ACTIONS, UNDO } from "./documents.js";
import { Modal } from "./dialog.js";
import { FINISH_REASONS, formatNumber, humanize, localToIso } from "./format.js";

export const MESSAGE_LIMIT = 10;

export const BULK_ACTIONS = [
  { key: "pause", label: "Pause", verb: "pause", done: "Paused", undo: true },
  { key: "resume", label: "Resume", verb: "resume", done: "Resumed", undo: true },
  { key: "finish", label: "Mark as finished", verb: "mark as finished", done: "Marked finished", undo: true },
  { key: "remove", label: "Remove from sequence", verb: "remove", done: "Removed", undo: true },
  { key: "restart", label: "Restart", verb: "restart in a clone", done: "Restarted", undo: true },
  { key: "group", label: "Add to group", verb: "add to the group", done: "Added to the group", undo: false },
  { key: "message", label: "Send message", verb: "send the message to", done: "Sent to", undo: false },
];

const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

function Options({ action, options, set, meta }) {
  const value = (key) => options[key] ?? "";
  const on = (key) => (e) => set({ ...options, [key]: e.currentTarget.value });
  switch (action.key) {
    case "pause":
      return html`<div class="field"><label for="o-resume">Resume automatically on (optional)</label>
        <input id="o-resume" type="datetime-local" value=${value("resumeAt")} onChange=${on("resumeAt")} /></div>`;
    case "resume":
      return html`<div class="field"><label for="o-resume">Resume on (empty: now)</label>
        <input id="o-resume" type="datetime-local" value=${value("resumeAt")} onChange=${on("resumeAt")} /></div>`;
    case "finish":
      return html`<div class="field"><label for="o-reason">Reason</label>
        <select id="o-reason" value=${value("reason")} onChange=${on("reason")} required>
          <option value="">Choose a reason…</option>
          ${FINISH_REASONS.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
        </select></div>`;
    case "restart":
      return html`<div class="field"><label for="o-name">Name of the clone to restart in</label>
        <input id="o-name" value=${value("newSequenceName")} onInput=${on("newSequenceName")} /></div>`;
    case "group":
      return html`<div class="field"><label for="o-group">Group</label>
        <select id="o-group" value=${value("groupId")} onChange=${on("groupId")} required>
          <option value="">Choose a group…</option>
          ${meta.groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}
        </select></div>`;
    case "message":
      return html`
        <div class="field"><label for="o-channel">Channel</label>
          <select id="o-channel" value=${value("channel") || "SMS"} onChange=${on("channel")}>
            <option value="SMS">Text message (SMS)</option><option value="EMAIL">Email</option>
          </select></div>
        ${options.channel === "EMAIL" && html`<div class="field"><label for="o-subject">Subject</label>
          <input id="o-subject" value=${value("subject")} onInput=${on("subject")} /></div>`}
        <div class="field"><label for="o-body">Message (each contact gets it on its own)</label>
          <textarea id="o-body" rows="4" value=${value("body")} onInput=${on("body")} required /></div>`;
    default:
      return null;
  }
}

function inputFor(action, options, selection) {
  const input = { selection };
  if (action.key === "pause" || action.key === "resume") input.resumeAt = localToIso(options.resumeAt);
  if (action.key === "finish") input.reason = options.reason || null;
  if (action.key === "restart") input.newSequenceName = options.newSequenceName || null;
  if (action.key === "group") input.groupId = options.groupId || null;
  if (action.key === "message") {
    input.channel = options.channel || "SMS";
    input.body = options.body || "";
    if (input.channel === "EMAIL") input.subject = options.subject || null;
  }
  return input;
}

function missing(action, options) {
  if (action.key === "finish" && !options.reason) return "Choose a reason.";
  if (action.key === "group" && !options.groupId) return "Choose a group.";
  if (action.key === "message" && !(options.body || "").trim()) return "Write the message.";
  return null;
}

export function Skipped({ skipped }) {
  if (!skipped || !skipped.length) return null;
  return html`<ul class="skipped">
    ${skipped.map((s) => html`<li><strong>${formatNumber(s.count)}</strong> skipped: ${humanize(s.reason)} — ${s.message}</li>`)}
  </ul>`;
}

function Errors({ errors }) {
  if (!errors || !errors.length) return null;
  return html`<div class="error" role="alert">${errors.map((e) => html`<p>${e.message}${e.field ? ` (${e.field.join(".")})` : ""}</p>`)}</div>`;
}

export function BulkDialog({ action, count, selection, meta, token, onClose, onDone }) {
  const [options, setOptions] = useState(() =>
    action.key === "restart" ? { newSequenceName: `${meta.sequence.name} (restart)` } : {});
  const [preview, setPreview] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const key = useMemo(uuid, []);
  const confirm = useRef(null);
  useEffect(() => { if (preview) confirm.current?.focus(); }, [preview]);

  const run = async (dryRun) => {
    const lacking = missing(action, options);
    if (lacking) { setProblem([{ message: lacking }]); return; }
    setBusy(true);
    setProblem(null);
    try {
      const input = { ...inputFor(action, options, selection), dryRun };
      if (!dryRun) input.idempotencyKey = key;
      const { result } = await request(token, ACTIONS[action.key], { input });
      if (result.userErrors.length) { setProblem(result.userErrors); setPreview(null); }
      else if (dryRun) setPreview(result);
      else onDone(action, result);
    } catch (e) {
      setProblem([{ message: e.message }]);
    } finally {
      setBusy(false);
    }
  };
  const change = (next) => { setOptions(next); setPreview(null); };
  return html`
    <${Modal} title=${`${action.label}: ${formatNumber(count)} selected`} onClose=${onClose}>
      <form class="bulk-form" onSubmit=${(e) => { e.preventDefault(); run(!preview); }}>
        <${Options} action=${action} options=${options} set=${change} meta=${meta} />
        <${Errors} errors=${problem} />
        ${preview && html`
          <section class="preview" aria-live="polite" aria-labelledby="preview-title">
            <h3 id="preview-title">Dry run: nothing changed yet</h3>
            <p>Will ${action.verb} <strong>${formatNumber(preview.changedCount)}</strong> of ${formatNumber(count)}.</p>
            <${Skipped} skipped=${preview.skipped} />
          </section>`}
        <div class="actions">
          <button type="button" onClick=${onClose}>Cancel</button>
          ${preview
            ? html`<button type="submit" class="primary" ref=${confirm} disabled=${busy || preview.changedCount === 0}>
                Confirm: ${action.verb} ${formatNumber(preview.changedCount)}</button>`
            : html`<button type="submit" class="primary" disabled=${busy}>Preview (dry run)</button>`}
        </div>
      </form>
    <//>`;
}

export function ResultBanner({ outcome, token, onUndone, onDismiss }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const { action, result } = outcome;
  const undo = async () => {
    setBusy(true);
    try {
      const { result: undone } = await request(token, UNDO, { input: { bulkOperationId: result.bulkOperationId } });
      if (undone.userErrors.length) setError(undone.userErrors[0].message);
      else onUndone(undone);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <div class="banner" role="status">
      <p><strong>${action.done} ${formatNumber(result.changedCount)}.</strong>
        ${result.skipped.length ? " Some were left as they were:" : ""}</p>
      <${Skipped} skipped=${result.skipped} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions">
        ${action.undo && result.bulkOperationId && html`<button type="button" onClick=${undo} disabled=${busy}>Undo</button>`}
        <button type="button" onClick=${onDismiss}>Dismiss</button>
      </div>
    </div>`;
}
