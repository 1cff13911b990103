// Every GraphQL document the dashboard sends (all public API).

export const VIEWER = `query Viewer { viewer { id name email role } }`;

const COUNTS = `statusCounts { status count }`;

export const SEQUENCES = `
query Sequences($first: Int, $after: String, $last: Int, $before: String) {
  sequences(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id name active archived steps { position } ${COUNTS} } }
  }
}`;

export const SEQUENCES_COUNTS = `
subscription SequencesCounts($ids: [ID!]) {
  sequencesStatusCounts(sequenceIds: $ids) { sequenceId total counts { status count } }
}`;

const STEP_COUNT = `position channel reached active awaitingReply paused notSent
  finished { total responded noResponse stopped } bounced failed optedOut omitted removed ended`;

export const SEQUENCE = `
query Sequence($id: ID!) {
  sequence(id: $id) {
    id name active archived eventCursor
    steps { position channel subject }
    stepCounts { ${STEP_COUNT} }
  }
  users(first: 100) { edges { node { id name } } }
  groups(first: 100) { edges { node { id name } } }
  sequences(first: 100) { edges { node { id name } } }
}`;

export const ROW = `id status reason currentStep enrolledAt statusChangedAt resumeAt
  contact { id name email phone } enrolledBy { id name }`;

export const PAGE = `
query Page($seq: ID!, $filter: EnrollmentFilter, $first: Int, $after: String,
           $last: Int, $before: String) {
  enrollments(sequenceId: $seq, filter: $filter, first: $first, after: $after,
              last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { ${ROW} } }
  }
}`;

// the tab bar: counts per status for the filter without its status part (one read)
export const TAB_COUNTS = `
query TabCounts($seq: ID!, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, filter: $filter, first: 0) { ${COUNTS} }
}`;

export const CHANGES = `
subscription Changes($seq: ID!, $since: String) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since) {
    cursor number fromStatus toStatus reason occurredAt
    actor { name }
    enrollment { ${ROW} }
  }
}`;

export const STEP_COUNTS = `
subscription StepCounts($seq: ID!) {
  sequenceStepCounts(sequenceId: $seq) { steps { ${STEP_COUNT} } }
}`;

export const ENROLLMENT = `
query Enrollment($id: ID!, $after: String) {
  node(id: $id) {
    ... on Enrollment {
      ${ROW} nextRunAt finishedAt
      nextSend { at step channel waitingFor }
      activities(first: 50, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id kind step at detail } }
      }
    }
  }
}`;

const BULK = `changedCount dryRun bulkOperationId
  skipped { reason count message }
  userErrors { field code message }`;

export const ACTIONS = {
  pause: `mutation Pause($input: PauseEnrollmentsInput!) { result: pauseEnrollments(input: $input) { ${BULK} } }`,
  resume: `mutation Resume($input: ResumeEnrollmentsInput!) { result: resumeEnrollments(input: $input) { ${BULK} } }`,
  finish: `mutation Finish($input: FinishEnrollmentsInput!) { result: finishEnrollments(input: $input) { ${BULK} } }`,
  remove: `mutation Remove($input: RemoveEnrollmentsInput!) { result: removeEnrollments(input: $input) { ${BULK} } }`,
  restart: `mutation Restart($input: RestartEnrollmentsInput!) { result: restartEnrollments(input: $input) { ${BULK} sequence { id name } } }`,
  group: `mutation AddToGroup($input: AddEnrollmentsToGroupInput!) { result: addEnrollmentsToGroup(input: $input) { ${BULK} } }`,
  message: `mutation SendMessage($input: SendMessageInput!) { result: sendMessage(input: $input) {
    changedCount: sentCount dryRun skipped { reason count message } userErrors { field code message } } }`,
};

export const UNDO = `
mutation Undo($input: UndoBulkOperationInput!) {
  result: undoBulkOperation(input: $input) { ${BULK} }
}`;
