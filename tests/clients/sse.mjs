// A subscription through the official graphql-sse client (distinct connections mode).
// Usage: node sse.mjs URL TOKEN QUERY VARIABLES_JSON COUNT — prints "READY" once the
// request is open, then each result as one JSON line; exits after COUNT results.
import { createClient } from 'graphql-sse';

const [url, token, query, variables, count] = process.argv.slice(2);
const client = createClient({
  url,
  headers: { authorization: `Bearer ${token}` },
  singleConnection: false,
  retryAttempts: 0,
});
let received = 0;
const dispose = client.subscribe(
  { query, variables: JSON.parse(variables) },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      if (++received >= Number(count)) {
        dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      console.log(JSON.stringify({ clientError: String(error?.message ?? error) }));
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
console.log('READY');
