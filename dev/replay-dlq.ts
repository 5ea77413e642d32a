// `npm run replay:dlq -- [--prefix 2026-11-20/] [--limit 100] [--list]`: sends dead-lettered
// batches archived in R2 back to the events queue, through the Worker's admin API. Works against
// `npm start` (EDGE_URL defaults to http://127.0.0.1:8787) and a deployed Worker alike.
import { parseArgs } from "node:util";
import { LOCAL_ADMIN_TOKEN } from "./local";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: process.env.EDGE_URL ?? "http://127.0.0.1:8787" },
    prefix: { type: "string", default: "" },
    limit: { type: "string", default: "100" },
    list: { type: "boolean", default: false },
  },
});
const token = process.env.ADMIN_TOKEN ?? LOCAL_ADMIN_TOKEN;
const headers = { authorization: `Bearer ${token}` };
const base = values.url.replace(/\/$/, "");

async function main(): Promise<void> {
  if (values.list) {
    const res = await fetch(`${base}/admin/dead-letters`, { headers });
    console.log(JSON.stringify(await res.json(), null, 2));
    if (!res.ok) process.exitCode = 1;
    return;
  }
  let total = 0;
  let rows = 0;
  for (;;) {
    const q = new URLSearchParams({ prefix: values.prefix, limit: values.limit });
    const res = await fetch(`${base}/admin/dead-letters/replay?${q}`, { method: "POST", headers });
    const body = (await res.json()) as { replayed?: number; rows?: number; remaining?: boolean; failed?: string[]; error?: { message: string } };
    if (!res.ok) throw new Error(`replay failed (${res.status}): ${body.error?.message ?? "unknown error"}`);
    total += body.replayed ?? 0;
    rows += body.rows ?? 0;
    for (const key of body.failed ?? []) console.error(`not a sink batch, left in place: ${key}`);
    if (!body.remaining || (body.replayed ?? 0) === 0) break;
  }
  console.log(`replayed ${total} batches (${rows} events) into the events queue`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
