import { useState } from "preact/hooks";
import { html } from "./html.js";
import { request } from "./api.js";
import { VIEWER } from "./documents.js";

export function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Paste an API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const data = await request(value, VIEWER);
      onSignedIn(value, data.viewer);
    } catch (e) {
      setError(e.code === "UNAUTHENTICATED" ? "This token is not valid (or was revoked)." : e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin" id="main">
      <h1>seqgql · Contacts dashboard</h1>
      <form onSubmit=${submit} class="card">
        <p>Sign in with an API token. <code>seqgql serve --demo</code> prints the demo
          workspace's; <code>seqgql token create --email you@example.com</code> makes one.
          It is kept in this tab only (session storage).</p>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false"
               value=${token} onInput=${(e) => setToken(e.currentTarget.value)}
               aria-invalid=${error ? "true" : "false"} aria-describedby=${error ? "token-error" : undefined} />
        ${error && html`<p id="token-error" class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>`;
}
