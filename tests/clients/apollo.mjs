// Apollo Client's normalised cache against a running seqgql: after a bulk pause, the
// cache shows PAUSED without a refetch, and counts pushed over graphql-ws update the
// cached Sequence.
// Usage: node apollo.mjs HTTP_URL WS_URL TOKEN SEQUENCE_ID
// Prints one JSON line: what the cache held at each point, and how many HTTP requests
// were made.
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from '@apollo/client/core/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { getMainDefinition } from '@apollo/client/utilities/index.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [httpUrl, wsUrl, token, sequenceId] = process.argv.slice(2);
let httpRequests = 0;
const countingFetch = (...args) => {
  httpRequests += 1;
  return fetch(...args);
};
const http = new HttpLink({
  uri: httpUrl,
  headers: { authorization: `Bearer ${token}` },
  fetch: countingFetch,
});
const socket = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
const link = split(
  ({ query }) => {
    const definition = getMainDefinition(query);
    return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
  },
  new GraphQLWsLink(socket),
  http,
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const PAGE = gql`
  query Tab($seq: ID!) {
    sequence(id: $seq) { id name statusCounts { status count } }
    enrollments(sequenceId: $seq, first: 10) { edges { node { id status reason } } }
  }
`;
const PAUSE = gql`
  mutation Pause($input: PauseEnrollmentsInput!) {
    pauseEnrollments(input: $input) {
      changedCount
      bulkOperation { id action changedCount }
      changedEnrollments { id status reason }
    }
  }
`;
const COUNTS = gql`
  subscription Counts($seq: ID!) {
    sequenceStatusCounts(sequenceId: $seq) {
      id
      sequence { id statusCounts { status count } }
    }
  }
`;

function tally(sequence) {
  return Object.fromEntries(sequence.statusCounts.map((c) => [c.status, c.count]));
}

function cached() {
  const page = client.readQuery({ query: PAGE, variables: { seq: sequenceId } });
  return {
    statuses: page.enrollments.edges.map((e) => e.node.status),
    counts: tally(page.sequence),
  };
}

const timeout = setTimeout(() => {
  console.log(JSON.stringify({ clientError: 'timed out' }));
  process.exit(1);
}, 30000);

try {
  await client.query({ query: PAGE, variables: { seq: sequenceId } });
  const before = cached();

  // counts pushed over the websocket: wait for the first (sent on subscribe)
  const pushes = [];
  let wake = () => {};
  const subscription = client.subscribe({ query: COUNTS, variables: { seq: sequenceId } })
    .subscribe({
      next: (result) => { pushes.push(result.data.sequenceStatusCounts); wake(); },
      error: (error) => {
        console.log(JSON.stringify({ clientError: String(error?.message ?? error) }));
        process.exit(1);
      },
    });
  const nextPush = (count) => new Promise((resolve) => {
    wake = () => { if (pushes.length >= count) resolve(); };
    wake();
  });
  await nextPush(1);

  const ids = (await client.query({ query: PAGE, variables: { seq: sequenceId } }))
    .data.enrollments.edges.map((e) => e.node.id);
  const toPause = ids.slice(0, 2);
  const paused = await client.mutate({
    mutation: PAUSE,
    variables: { input: { selection: { ids: toPause } } },
  });
  const afterMutation = cached();
  const requestsAfterMutation = httpRequests;
  const operation = client.cache.identify(paused.data.pauseEnrollments.bulkOperation);

  await nextPush(2);
  const afterPush = cached();
  subscription.unsubscribe();
  await socket.dispose();
  clearTimeout(timeout);
  console.log(JSON.stringify({
    before,
    afterMutation,
    afterPush,
    paused: toPause,
    operation,
    requestsAfterMutation,
    requestsAtEnd: httpRequests,
    pushedIds: pushes.map((p) => p.id),
  }));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ clientError: String(error?.message ?? error) }));
  process.exit(1);
}
