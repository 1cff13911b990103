// Words and dates as the product pages say them.

export const STATUSES = [
  "ACTIVE", "PAUSED", "FINISHED", "BOUNCED", "FAILED", "NOT_SENT", "OPTED_OUT", "OMITTED", "REMOVED",
];

const STATUS_LABELS = {
  ACTIVE: "Active", PAUSED: "Paused", FINISHED: "Finished", BOUNCED: "Bounced",
  FAILED: "Failed", NOT_SENT: "Not sent", OPTED_OUT: "Opted out", OMITTED: "Omitted",
  REMOVED: "Removed",
};

const REASON_LABELS = {
  MANUAL: "manually", OUT_OF_OFFICE: "out of office", ACTIVE_IN_OTHER_SEQUENCE: "active elsewhere",
  REPLIED: "responded", MEETING_BOOKED: "meeting booked", UNSUBSCRIBED: "unsubscribed",
  CHANGED_JOBS: "changed jobs", NO_LONGER_NEEDED: "no longer needed", OTHER: "stopped",
  COMPLETED_NO_RESPONSE: "no response", COMPANY_REPLIED: "company replied",
  MISSING_EMAIL: "missing email", MISSING_PHONE: "missing phone", BLOCKED_BY_RULE: "blocked by rule",
  OPTED_OUT: "opted out", LANDLINE: "landline", MOVED: "moved",
};

export const FINISH_REASONS = [
  ["REPLIED", "Replied"], ["MEETING_BOOKED", "Meeting booked"], ["UNSUBSCRIBED", "Unsubscribed"],
  ["CHANGED_JOBS", "Changed jobs"], ["NO_LONGER_NEEDED", "No longer needed"], ["OTHER", "Other"],
];

export const statusLabel = (status) => STATUS_LABELS[status] || status;

export function statusText(status, reason) {
  const label = statusLabel(status);
  return reason && REASON_LABELS[reason] ? `${label}, ${REASON_LABELS[reason]}` : label;
}

export const humanize = (value) =>
  value ? value.charAt(0) + value.slice(1).toLowerCase().replaceAll("_", " ") : "";

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const formatDate = (iso) => (iso ? DATE.format(new Date(iso)) : "");
export const formatDateTime = (iso) => (iso ? DATE_TIME.format(new Date(iso)) : "");
export const formatNumber = (n) => (n ?? 0).toLocaleString();

export function countsByStatus(list) {
  const found = {};
  for (const { status, count } of list || []) found[status] = count;
  return found;
}

// <input type="date"> values as the API's DateTime: the start of that day (UTC)
export function dayStart(value) {
  return value ? `${value}T00:00:00Z` : null;
}
export function dayAfter(value) {
  if (!value) return null;
  const next = new Date(`${value}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}
// <input type="datetime-local"> (the browser's time zone) as the API's DateTime
export const localToIso = (value) => (value ? new Date(value).toISOString() : null);
