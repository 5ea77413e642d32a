// A page rendered on the server from a loader's data, as the browser first receives it.
import type { ComponentType } from "react";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { createStaticHandler, createStaticRouter, StaticRouterProvider } from "react-router-dom/server";

/** The HTML of `page` at `url` when its loader answered `data`, as a reader sees its text. */
export async function renderPage(page: ComponentType, url: string, data: unknown): Promise<string> {
  const handler = createStaticHandler([{ path: "*", loader: () => data as Record<string, unknown>, element: createElement(page) }]);
  const context = await handler.query(new Request(url));
  if (context instanceof Response) throw new Error("the page redirected");
  // React separates adjacent text with comments; the text as a reader sees it is what counts.
  return renderToString(createElement(StaticRouterProvider, { router: createStaticRouter(handler.dataRoutes, context), context })).replace(/<!-- -->/g, "");
}
