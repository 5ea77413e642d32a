// Real minified builds of one small checkout module, with their source maps and the stacks of the
// crash they throw: what the source-map tests map back. `node --import tsx test/sourcemap-builds.ts`
// rewrites test/fixtures/sourcemap-crashes.json, which the workerd tests read (esbuild and
// node:vm do not run inside workerd).
import { writeFile } from "node:fs/promises";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";

/** The original source (`src/checkout.ts`): placeOrder → checkout → applyDiscount, which throws for codes starting with X. */
export const CHECKOUT_SOURCE = `import { formatCents } from "format-money";

interface Line {
  price: number;
  qty: number;
}

function cartTotal(lines: Line[]): number {
  return lines.reduce((sum, l) => sum + l.price * l.qty, 0);
}

export function applyDiscount(lines: Line[], code: string): number {
  const total = cartTotal(lines);
  if (code.startsWith("X")) throw new RangeError(\`discount \${code} is not valid for \${formatCents(total)}\`);
  return total * 0.9;
}

export function checkout(lines: Line[], code: string): number {
  const charged = applyDiscount(lines, code);
  return Math.round(charged);
}

export function placeOrder(lines: Line[], code: string): { charged: number } {
  return { charged: checkout(lines, code) };
}
`;

// A dependency, so the bundle holds code whose original source is not the app's.
const DEPENDENCY = "export function formatCents(n: number): string { return (n / 100).toFixed(2); }";

// Bundled before the checkout module in a second build of the same source: it moves every
// minified position and changes the minifier's names.
const EXTRA = 'export const BUILD = "b";\nexport function double(n: number): number { return n * 2; }\nexport const FOUR = double(2);\n';

const MODULES: Record<string, string> = { "/src/checkout.ts": CHECKOUT_SOURCE, "/src/extra.ts": EXTRA, "/node_modules/format-money/index.ts": DEPENDENCY };

/** The 1-based line of the original source holding `text`. */
export function checkoutLine(text: string): number {
  return CHECKOUT_SOURCE.split("\n").findIndex((l) => l.includes(text)) + 1;
}

/** A minified IIFE build exposing `Shop.placeOrder`, and its external source map, as esbuild writes them. */
export async function buildCheckout(file: string, other = false): Promise<{ js: string; map: string }> {
  const entry = `${other ? 'export * from "./extra";\n' : ""}export * from "./checkout";\n`;
  const out = await build({
    stdin: { contents: entry, sourcefile: "index.ts", resolveDir: "/src", loader: "ts" },
    bundle: true,
    minify: true,
    sourcemap: "external",
    format: "iife",
    globalName: "Shop",
    outfile: `/${file}`,
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "modules",
        setup(b) {
          b.onResolve({ filter: /^format-money$/ }, () => ({ path: "/node_modules/format-money/index.ts" }));
          b.onResolve({ filter: /^\.\/(checkout|extra)$/ }, (args) => ({ path: `/src/${args.path.slice(2)}.ts` }));
          b.onLoad({ filter: /\.ts$/ }, (args) => ({ contents: MODULES[args.path] ?? "", loader: "ts" }));
        },
      },
    ],
  });
  const text = (suffix: string): string => out.outputFiles.find((f) => f.path.endsWith(suffix))?.text ?? "";
  return { js: text(".js"), map: text(".js.map") };
}

/** A build's crash as V8 reports it when the script was loaded from `https://cdn.example/assets/<file>`. */
export async function minifiedCrash(file: string, other = false): Promise<{ stack: string; map: string }> {
  const { js, map } = await buildCheckout(file, other);
  const shop = runInNewContext(`${js};Shop`, {}, { filename: `https://cdn.example/assets/${file}` }) as { placeOrder(lines: unknown[], code: string): unknown };
  try {
    shop.placeOrder([{ price: 1250, qty: 2 }], "XMAS");
  } catch (err) {
    return { stack: String((err as { stack?: unknown }).stack), map };
  }
  throw new Error("the bundle did not throw");
}

/** The fixture file's shape. */
export interface SourceMapCrashes {
  lines: { throw: number; checkoutCall: number; placeOrderCall: number };
  builds: Array<{ file: string; map: string; stack: string }>;
}

async function main(): Promise<void> {
  const builds = [];
  for (const [file, other] of [["app.3f2a1b9c.js", false], ["app.9e8d7c6b.js", true]] as const) {
    const { stack, map } = await minifiedCrash(file, other);
    // Only the bundle's frames: the rest are this script's.
    builds.push({ file, map, stack: stack.split("\n").filter((l, i) => i === 0 || l.includes("cdn.example")).join("\n") });
  }
  const fixture: SourceMapCrashes = {
    lines: { throw: checkoutLine("throw new RangeError"), checkoutCall: checkoutLine("const charged"), placeOrderCall: checkoutLine("charged: checkout") },
    builds,
  };
  await writeFile(new URL("./fixtures/sourcemap-crashes.json", import.meta.url), `${JSON.stringify(fixture, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
