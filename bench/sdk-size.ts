// Benchmark: the SDK's size in a browser, beside posthog-js and @segment/analytics-next measured
// the same way in the same run: each package's browser entry bundled by esbuild as an app would
// import it (everything it can load, dynamic imports included), minified, gzipped by node:zlib
// at level 9. Target: our full browser build at most 8 KB gzipped.
// `npm run bench:sdk`
import { build } from "esbuild";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { buildSdk } from "../dev/build-sdk";
import { report } from "./report";

const root = resolve(import.meta.dirname, "..");
const TARGET_BYTES = 8 * 1024;

interface Row {
  bundle: string;
  version: string;
  minifiedBytes: number;
  gzipBytes: number;
}

async function version(pkg: string): Promise<string> {
  return (JSON.parse(await readFile(resolve(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
}

/** Bundles `source` (an app's import of the package) for browsers, minified, and measures it. */
async function measure(source: string): Promise<{ minifiedBytes: number; gzipBytes: number }> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: "ts" },
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    legalComments: "none",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return { minifiedBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sdk-size-"));
  const rows: Row[] = [];
  try {
    const ours = await buildSdk(dir);
    const ownVersion = (JSON.parse(await readFile(resolve(root, "sdk/package.json"), "utf8")) as { version: string }).version;
    const label: Record<string, string> = {
      "telemetry.min.js": "ours: script tag (IIFE, full browser build)",
      "browser.js": "ours: browser ESM (full)",
      "core.js": "ours: core only",
      "react-native.js": "ours: React Native",
    };
    for (const s of ours) {
      const name = Object.keys(label).find((k) => s.file.endsWith(k));
      if (name) rows.push({ bundle: label[name] ?? name, version: ownVersion, minifiedBytes: s.bytes, gzipBytes: s.gzip });
    }
    rows.push({ bundle: "posthog-js", version: await version("posthog-js"), ...(await measure('export { default } from "posthog-js";')) });
    rows.push({ bundle: "@segment/analytics-next", version: await version("@segment/analytics-next"), ...(await measure('export { AnalyticsBrowser } from "@segment/analytics-next";')) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
  console.log(`\n${"bundle".padEnd(46)}${"version".padEnd(10)}${"minified".padStart(11)}${"gzipped".padStart(11)}`);
  for (const r of rows) console.log(`${r.bundle.padEnd(46)}${r.version.padEnd(10)}${kb(r.minifiedBytes).padStart(11)}${kb(r.gzipBytes).padStart(11)}`);

  const full = Math.max(...rows.filter((r) => r.bundle.startsWith("ours: script tag") || r.bundle.startsWith("ours: browser ESM")).map((r) => r.gzipBytes));
  report("sdk-size", {
    figures: { method: "esbuild bundle of each browser entry, minified, gzip level 9 (node:zlib)", bundles: rows },
    targets: [{ name: "full browser build gzipped", target: `<= ${kb(TARGET_BYTES)} (${full} B)`, met: full <= TARGET_BYTES }],
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
