import { h } from "preact";
import htm from "htm";

// JSX-like templates without a compile step (htm), rendered by Preact.
export const html = htm.bind(h);

let counter = 0;
export const uniqueId = (prefix) => `${prefix}-${++counter}`;
