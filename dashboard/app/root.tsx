import { json, type LinksFunction, type LoaderFunctionArgs } from "@remix-run/cloudflare";
import { isRouteErrorResponse, Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteError } from "@remix-run/react";
import { createContext, useContext, type ReactNode } from "react";
import uplotCss from "uplot/dist/uPlot.min.css?url";
import { ensureCsrfToken } from "./auth/csrf.server";
import { envOf } from "./context.server";
import styles from "./styles.css?url";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: styles },
  { rel: "stylesheet", href: uplotCss },
];

/** Every page gets the CSRF token its forms echo (components/csrf.tsx). */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { token, setCookie } = await ensureCsrfToken(request, envOf(context));
  return json({ csrf: token }, setCookie ? { headers: { "set-cookie": setCookie } } : undefined);
}

/** The document's script nonce (entry.server.tsx); empty in the browser, which hides nonces. */
export const NonceContext = createContext("");

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useContext(NonceContext);
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

/** The one error page: what went wrong and where to go, never a blank screen. */
export function ErrorBoundary() {
  const error = useRouteError();
  const [title, detail] = isRouteErrorResponse(error)
    ? [error.status === 404 ? "Not found" : error.status === 403 ? "Not allowed" : `Error ${error.status}`, typeof error.data === "string" ? error.data : error.statusText]
    : ["Something went wrong", error instanceof Error ? error.message : "An unexpected error occurred."];
  return (
    <main className="centered">
      <div className="card error-card" role="alert">
        <h1>{title}</h1>
        <p>{detail}</p>
        <p>
          <a href="/apps">Back to your apps</a>
        </p>
      </div>
    </main>
  );
}
