// A page that runs a vendor's real npm library in the browser: the entry (source text that
// imports the package) is bundled with esbuild as the vendor's own users would bundle it, and
// served from a loopback port, so the browser loads nothing from the internet.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { build } from "esbuild";

/** A served test page: open `url` in the browser, then `close()`. */
export interface TestPage {
  url: string;
  /** The page's origin, `http://127.0.0.1:<port>`. */
  origin: string;
  close(): Promise<void>;
}

/** What to serve. */
export interface PageOptions {
  /** TypeScript or JavaScript source bundled into the page's one script; it may import any installed package. */
  entry: string;
  /** Extra markup in `<body>`, before the script. */
  body?: string;
  /** Values substituted for global identifiers at bundle time, e.g. `{ "process.env.NODE_ENV": '"production"' }`. */
  define?: Record<string, string>;
}

const root = resolve(import.meta.dirname, "../..");

/** Bundles `entry` and serves it in an HTML page: `const page = await servePage({ entry: "import ..." })`. */
export async function servePage(opts: PageOptions): Promise<TestPage> {
  const bundle = await build({
    stdin: { contents: opts.entry, resolveDir: root, sourcefile: "entry.ts", loader: "ts" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2020",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"', ...opts.define },
  });
  const script = bundle.outputFiles[0]?.contents ?? new Uint8Array();
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>intake test</title></head><body>${opts.body ?? ""}<script src="/entry.js"></script></body></html>`;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/entry.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (path === "/favicon.ico") res.writeHead(204).end();
    else res.writeHead(200, { "content-type": "text/html" }).end(html);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
