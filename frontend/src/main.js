import { render } from "preact";
import { html } from "./html.js";
import { App } from "./app.js";
import "./styles.css";

const root = document.getElementById("app");
root.textContent = ""; // the "Loading…" placeholder
render(html`<${App} />`, root);
