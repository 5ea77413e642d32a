// `npm run build:sdk`: the SDK's bundles in sdk/dist/, with esbuild.
//   browser.js          minified ESM for bundlers and <script type="module">
//   telemetry.min.js    minified IIFE for a plain <script> tag: one global, `Telemetry`
//   node.js             ESM for Node 20+
//   react-native.js     ESM for Metro
//   core.js             minified ESM of the platform-free core alone
//   types/              TypeScript declarations (sdk/tsconfig.build.json), for `npm run build:sdk` only
// Fails when a bundle would pull in anything outside sdk/ at run time.
import { execFileSync } from "node:child_process";
import { build, type BuildOptions, type Metafile } from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(import.meta.dirname, "..");
const sdk = resolve(root, "sdk");
/** Where `npm run build:sdk` writes. */
export const SDK_DIST = resolve(sdk, "dist");

/** One bundle: its file, its size and its gzipped size (level 9) in bytes. */
export interface BundleSize {
  file: string;
  bytes: number;
  gzip: number;
}

const BUNDLES: Array<{ name: string; entry: string } & BuildOptions> = [
  { name: "browser.js", entry: "platforms/browser/index.ts", format: "esm", platform: "browser", target: "es2020", minify: true },
  { name: "telemetry.min.js", entry: "script.ts", format: "iife", platform: "browser", target: "es2020", minify: true },
  { name: "node.js", entry: "platforms/node/index.ts", format: "esm", platform: "node", target: "node20" },
  { name: "react-native.js", entry: "platforms/react-native/index.ts", format: "esm", platform: "neutral", target: "es2020", minify: true },
  { name: "core.js", entry: "index.ts", format: "esm", platform: "neutral", target: "es2020", minify: true },
];

function outsideSdk(meta: Metafile): string[] {
  return Object.keys(meta.inputs).filter((input) => !resolve(root, input).startsWith(`${sdk}/`));
}

/** Builds every bundle into `outDir` and returns their sizes: `await buildSdk()`. */
export async function buildSdk(outDir: string = SDK_DIST): Promise<BundleSize[]> {
  mkdirSync(outDir, { recursive: true });
  const sizes: BundleSize[] = [];
  for (const { name, entry, ...options } of BUNDLES) {
    const result = await build({
      ...options,
      entryPoints: [resolve(sdk, entry)],
      outfile: resolve(outDir, name),
      bundle: true,
      metafile: true,
      write: true,
      sourcemap: options.minify ? "linked" : false,
      legalComments: "none",
      logLevel: "error",
    });
    const foreign = outsideSdk(result.metafile);
    if (foreign.length) throw new Error(`${name} would import from outside sdk/ at run time: ${foreign.join(", ")}`);
    const content = readFileSync(resolve(outDir, name));
    sizes.push({ file: relative(root, resolve(outDir, name)), bytes: content.length, gzip: gzipSync(content, { level: 9 }).length });
  }
  return sizes;
}

/** Emits the declarations the package's `types` entries point at, into sdk/dist/types. */
export function emitSdkTypes(): void {
  const outDir = resolve(SDK_DIST, "types");
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [resolve(root, "node_modules/typescript/bin/tsc"), "-p", resolve(sdk, "tsconfig.build.json")], { stdio: "inherit" });
  // Node's ESM resolution (TypeScript's NodeNext) needs full specifiers: "./client" becomes
  // "./client.js", and a folder import "../../schemas" becomes "../../schemas/index.js".
  for (const file of readdirSync(outDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".d.ts"))) {
    const path = resolve(outDir, file);
    const text = readFileSync(path, "utf8").replace(/(from |import\()"(\.{1,2}\/[^"]*)"/g, (whole, lead: string, spec: string) => {
      const target = resolve(dirname(path), spec);
      if (existsSync(`${target}.d.ts`)) return `${lead}"${spec}.js"`;
      if (existsSync(resolve(target, "index.d.ts"))) return `${lead}"${spec}/index.js"`;
      return whole;
    });
    writeFileSync(path, text);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await buildSdk();
  emitSdkTypes();
  for (const s of sizes) console.log(`${s.file.padEnd(32)} ${String(s.bytes).padStart(7)} B  ${String(s.gzip).padStart(6)} B gzipped`);
}
