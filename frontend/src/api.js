// The public GraphQL API, and nothing else: queries and mutations over HTTP (POST /graphql),
// subscriptions over graphql-transport-ws (graphql-ws), the token sent as a bearer header
// and in connection_init.
import { createClient } from "graphql-ws";

const ENDPOINT = "/graphql";

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export async function request(token, query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached; check the connection and retry.", "OFFLINE");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status}.`, "HTTP");
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code || "ERROR");
  }
  if (!response.ok) throw new ApiError(`The server answered ${response.status}.`, "HTTP");
  return body.data;
}

function websocketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${ENDPOINT}`;
}

// One websocket for the whole app. It reconnects by itself (forever, at most 5 s apart);
// a socket that stops answering pings is closed and replaced; going offline closes it at
// once. ``onState`` hears "connecting" | "connected" | "reconnecting".
export function liveClient(token, onState) {
  let pongTimer = null;
  const client = createClient({
    url: websocketUrl(),
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    keepAlive: 5000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5000))),
    on: {
      connecting: (retrying) => onState(retrying ? "reconnecting" : "connecting"),
      connected: () => onState("connected"),
      closed: () => onState("reconnecting"),
      ping: (received) => {
        if (!received) pongTimer = setTimeout(() => client.terminate(), 4000);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });
  const offline = () => client.terminate();
  window.addEventListener("offline", offline);
  return {
    // ``payload`` is sent again as it is on every reconnect: a caller that moves
    // ``payload.variables.since`` on each message resumes from there.
    subscribe(payload, onData, onError) {
      return client.subscribe(payload, {
        next: (message) => {
          if (message.errors && message.errors.length) onError?.(message.errors[0]);
          else if (message.data) onData(message.data);
        },
        error: (error) => onError?.(Array.isArray(error) ? error[0] : error),
        complete: () => {},
      });
    },
    dispose() {
      window.removeEventListener("offline", offline);
      clearTimeout(pongTimer);
      client.dispose();
    },
  };
}
