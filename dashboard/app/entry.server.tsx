import type { AppLoadContext, EntryContext } from "@remix-run/cloudflare";
import { RemixServer } from "@remix-run/react";
import { renderToReadableStream } from "react-dom/server";
import { documentPolicy, newNonce } from "./auth/respond.server";
import { NonceContext } from "./root";

export default async function handleRequest(
  request: Request,
  status: number,
  headers: Headers,
  remixContext: EntryContext,
  _loadContext: AppLoadContext,
): Promise<Response> {
  let statusCode = status;
  // Remix's own inline scripts carry this nonce; no other inline script may run.
  const nonce = newNonce();
  const body = await renderToReadableStream(
    <NonceContext.Provider value={nonce}>
      <RemixServer context={remixContext} url={request.url} nonce={nonce} />
    </NonceContext.Provider>,
    {
      nonce,
      signal: request.signal,
      onError(error: unknown) {
        console.error(error);
        statusCode = 500;
      },
    },
  );
  // Pages are small: waiting for the whole document keeps crawlers and tests simple.
  await body.allReady;
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("content-security-policy", documentPolicy(nonce));
  return new Response(body, { headers, status: statusCode });
}
