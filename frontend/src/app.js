import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { liveClient, request } from "./api.js";
import { VIEWER } from "./documents.js";
import { SignIn } from "./signin.js";
import { SequenceList } from "./sequences.js";
import { ContactsTab } from "./contacts.js";

const TOKEN_KEY = "seqgql.token";

function route() {
  const match = /^#\/sequences\/([^/]+)$/.exec(location.hash);
  return match ? { sequenceId: decodeURIComponent(match[1]) } : {};
}

const CONNECTION_WORDS = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
};

export function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY));
  const [viewer, setViewer] = useState(null);
  const [where, setWhere] = useState(route);
  const [live, setLive] = useState(null);
  const [connection, setConnection] = useState("connecting");

  useEffect(() => {
    const changed = () => setWhere(route());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);

  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setViewer(null);
  };

  useEffect(() => {
    if (!token) return undefined;
    const client = liveClient(token, setConnection);
    setLive(client);
    if (!viewer) {
      request(token, VIEWER)
        .then((data) => setViewer(data.viewer))
        .catch((e) => e.code === "UNAUTHENTICATED" && signOut());
    }
    return () => {
      client.dispose();
      setLive(null);
    };
  }, [token]);

  if (!token) {
    return html`<${SignIn} onSignedIn=${(value, who) => {
      sessionStorage.setItem(TOKEN_KEY, value);
      setViewer(who);
      setToken(value);
    }} />`;
  }
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">seqgql</a>
      <nav aria-label="Main"><a href="#/">Sequences</a></nav>
      <span class=${`connection ${connection}`} role="status">${CONNECTION_WORDS[connection]}</span>
      ${viewer && html`<span class="who">${viewer.name} · ${viewer.role.toLowerCase()}</span>`}
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      ${live && (where.sequenceId
        ? html`<${ContactsTab} key=${where.sequenceId} token=${token} live=${live}
                 sequenceId=${where.sequenceId} canEdit=${viewer ? viewer.role !== "VIEWER" : true} />`
        : html`<${SequenceList} token=${token} live=${live} />`)}
    </main>`;
}
