import type { Core } from "../../core/client";
import type { Win } from "./dom";

/**
 * Records a page view now and on every SPA navigation (`history.pushState`, `replaceState`,
 * back and forward) that changes the path or query. Returns what records a navigation not yet
 * recorded: `const settle = capturePageviews(client, window)`
 */
export function capturePageviews(c: Core, w: Win): () => void {
  let last = "";
  const view = (): void => {
    const here = w.location.pathname + w.location.search;
    if (here === last) return;
    last = here;
    if (c.allows("pageviews")) c.page();
  };
  const h = w.history;
  for (const method of ["pushState", "replaceState"] as const) {
    const original = h[method];
    h[method] = (...args: unknown[]) => {
      original.apply(h, args);
      // Routers set the new title after pushing the URL; read both once they have.
      setTimeout(view, 0);
    };
  }
  w.addEventListener("popstate", () => setTimeout(view, 0));
  view();
  return view;
}
