import { Link, useSearchParams } from "@remix-run/react";

/** `?…` of the current URL with one change, for links that keep the view's range and filters. */
export function useParamLink(): (change: (q: URLSearchParams) => void) => string {
  const [params] = useSearchParams();
  return (change) => {
    const q = new URLSearchParams(params);
    change(q);
    return `?${q.toString()}`;
  };
}

/** Keyset paging: back to the first page, and on to `next` while there is one. */
export function Pager({ paged, next, first = "← Newest", more = "Older →" }: { paged: boolean; next: string | null; first?: string; more?: string }) {
  const link = useParamLink();
  return (
    <nav className="pager" aria-label="Pages">
      {paged ? <Link to={link((q) => q.delete("before"))}>{first}</Link> : <span />}
      {next ? <Link to={link((q) => q.set("before", next))}>{more}</Link> : <span className="muted small">End of results</span>}
    </nav>
  );
}
