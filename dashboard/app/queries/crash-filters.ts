// The crashes list's filters and sort as they appear in URLs
// (`?status=resolved&release=1.2.0&sort=newest&q=chunk`), shared by the loaders and the page.

export const ISSUE_SORTS = { events: "Events", users: "Users", newest: "Newest", last: "Last seen" } as const;
export type IssueSort = keyof typeof ISSUE_SORTS;
export const STATUS_FILTERS = { unresolved: "Unresolved", regressed: "Regressed", resolved: "Resolved", ignored: "Ignored", all: "All" } as const;
export type StatusFilter = keyof typeof STATUS_FILTERS;

export interface IssueFilters {
  release: string;
  platform: string;
  environment: string;
  /** Part of the type, message or culprit, case-insensitive. */
  q: string;
  status: StatusFilter;
  sort: IssueSort;
}

const oneOf = <K extends string>(options: Readonly<Record<K, string>>, raw: string | null, fallback: K): K =>
  raw !== null && Object.hasOwn(options, raw) ? (raw as K) : fallback;

export function parseIssueFilters(url: URL): IssueFilters {
  const get = (name: string, max = 128): string => (url.searchParams.get(name) ?? "").trim().slice(0, max);
  return {
    release: get("release"),
    platform: get("platform"),
    environment: get("environment"),
    q: get("q", 200),
    status: oneOf(STATUS_FILTERS, url.searchParams.get("status"), "unresolved"),
    sort: oneOf(ISSUE_SORTS, url.searchParams.get("sort"), "events"),
  };
}

/** `TypeError: x is undefined`; the type alone when there is no message. */
export const issueTitle = (r: { type: string; message: string }): string => (r.message ? `${r.type}: ${r.message}` : r.type);
