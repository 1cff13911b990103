// The GraphQL-over-HTTP server audit (graphql-http) against a running server.
// Usage: node audit.mjs URL TOKEN — prints one JSON line per audit: id, name, status, reason.
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  const line = { id: audit.id, name: audit.name, status: result.status };
  if (result.status !== 'ok') line.reason = String(result.reason);
  if ('response' in result && result.response?.body && !result.response.bodyUsed) {
    await result.response.body.cancel().catch(() => {});
  }
  console.log(JSON.stringify(line));
}
