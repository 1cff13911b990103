// A modal dialog on the native <dialog>: the page behind is inert, focus moves in on open
// (to the element marked data-autofocus, else the first field or button) and back to
// what had it on close; Escape closes.
import { useEffect, useRef, useMemo } from "preact/hooks";
import { html, uniqueId } from "./html.js";

export function Modal({ title, onClose, children, className = "", describedBy }) {
  const ref = useRef(null);
  const titleId = useMemo(() => uniqueId("dialog-title"), []);
  useEffect(() => {
    const opener = document.activeElement;
    const dialog = ref.current;
    dialog.showModal();
    const first =
      dialog.querySelector("[data-autofocus]") ||
      dialog.querySelector("input, select, textarea, .dialog-body button");
    (first || dialog.querySelector("button"))?.focus();
    return () => {
      if (dialog.open) dialog.close();
      // back to what opened it; if that is gone (the selection bar after an action), the main content
      const target = opener && opener.isConnected ? opener : document.getElementById("main");
      target?.focus();
    };
  }, []);
  const cancel = (event) => {
    event.preventDefault();
    onClose();
  };
  return html`
    <dialog ref=${ref} class=${`modal ${className}`} aria-labelledby=${titleId}
            aria-describedby=${describedBy} onCancel=${cancel}>
      <header class="dialog-head">
        <h2 id=${titleId}>${title}</h2>
        <button type="button" class="icon" onClick=${onClose} aria-label="Close">×</button>
      </header>
      <div class="dialog-body">${children}</div>
    </dialog>`;
}
