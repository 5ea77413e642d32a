// `npm start` runs the edge Worker and the dashboard as two workerd processes over one local D1
// file. Two Miniflare instances over one persisted D1 are the same: each writes in bursts while
// the other does, and with the patient binding every write lands.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";

const WORKER = `
import { localD1Env } from "./local-d1";
export default {
  async fetch(request, raw) {
    const env = localD1Env(raw);
    const url = new URL(request.url);
    if (url.pathname === "/count") return Response.json((await env.DB.prepare("SELECT count(*) AS n FROM notes").first()).n);
    const who = url.searchParams.get("who");
    try {
      for (let i = 0; i < 40; i++) {
        await env.DB.batch([env.DB.prepare("INSERT INTO notes (who, body) VALUES (?, ?)").bind(who, "x".repeat(200)), env.DB.prepare("SELECT count(*) FROM notes")]);
        await env.DB.prepare("UPDATE notes SET body = ? WHERE who = ?").bind(String(i), who).run();
      }
      return new Response("ok");
    } catch (err) {
      return new Response(String(err), { status: 500 });
    }
  },
};`;

let dir = "";
let processes: Miniflare[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "local-d1-"));
  const bundle = await build({ stdin: { contents: WORKER, resolveDir: resolve(import.meta.dirname), loader: "ts" }, bundle: true, format: "esm", write: false, platform: "neutral" });
  const script = bundle.outputFiles[0]?.text ?? "";
  const start = () => new Miniflare({ modules: true, script, d1Databases: { DB: "shared" }, d1Persist: dir, bindings: { ENVIRONMENT: "development" } });
  const first = start();
  const db = await first.getD1Database("DB");
  await db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT NOT NULL, body TEXT NOT NULL)");
  const second = start();
  await second.ready;
  processes = [first, second];
}, 60_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.dispose()));
  rmSync(dir, { recursive: true, force: true });
});

it("lands every write when two local processes write to one D1 file at once", async () => {
  const writers = processes.flatMap((p, i) => [0, 1, 2, 3].map((j) => p.dispatchFetch(`http://local/write?who=w${i}${j}`).then(async (r) => `${r.status} ${await r.text()}`)));
  expect(await Promise.all(writers)).toEqual(Array(8).fill("200 ok"));
  const counted = await processes[1]?.dispatchFetch("http://local/count");
  expect(await counted?.json()).toBe(8 * 40);
}, 120_000);
