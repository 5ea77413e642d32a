// `npm run sourcemaps -- upload --app <id> --release <version> [--url <edge>] <dir>`: uploads
// every `*.js.map` under a build output directory to the edge's admin API, each under the
// basename of the script it maps (`app.3f2a1b.js.map` → `app.3f2a1b.js`), so crashes of that
// release are source-mapped at ingest. The token comes from ADMIN_TOKEN (the local one by
// default); EDGE_URL or --url names the edge (http://127.0.0.1:8787 by default).
import { readdir, readFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { LOCAL_ADMIN_TOKEN } from "./local";

const USAGE = "usage: npm run sourcemaps -- upload --app <id> --release <version> [--url <edge>] <dir>";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    app: { type: "string" },
    release: { type: "string" },
    url: { type: "string", default: process.env.EDGE_URL ?? "http://127.0.0.1:8787" },
  },
});

const MAP = /\.(?:js|mjs|cjs)\.map$/;

async function findMaps(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && MAP.test(entry.name)) found.push(join(entry.parentPath, entry.name));
  }
  return found.sort();
}

async function main(): Promise<void> {
  const [command, dir] = positionals;
  const { app, release } = values;
  if (command !== "upload" || !dir || !app || !release || positionals.length !== 2) throw new Error(USAGE);
  const maps = await findMaps(dir);
  if (maps.length === 0) throw new Error(`no *.js.map files under ${dir}: build with source maps on (esbuild --sourcemap, vite build.sourcemap, webpack devtool: "source-map")`);
  const base = values.url.replace(/\/$/, "");
  const token = process.env.ADMIN_TOKEN ?? LOCAL_ADMIN_TOKEN;
  let failed = 0;
  for (const path of maps) {
    const script = basename(path).replace(/\.map$/, "");
    const url = `${base}/admin/apps/${encodeURIComponent(app)}/releases/${encodeURIComponent(release)}/sourcemaps/${encodeURIComponent(script)}`;
    const res = await fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(await readFile(path)),
    });
    const body = (await res.json().catch(() => ({}))) as { sourceMap?: { bytes: number }; error?: { message: string } };
    if (res.ok) {
      console.log(`uploaded ${relative(dir, path)} as ${script} (${body.sourceMap?.bytes ?? 0} bytes stored)`);
    } else {
      failed++;
      console.error(`failed ${relative(dir, path)} (${res.status}): ${body.error?.message ?? res.statusText}`);
    }
  }
  console.log(`${maps.length - failed} of ${maps.length} source maps uploaded for ${app} release ${release}`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
