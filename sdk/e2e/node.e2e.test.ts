// The SDK's Node build in a real Node process against the local edge: events sent at exit,
// and an uncaught exception recorded as a fatal crash before the process ends with code 1.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { expect, inject, it } from "vitest";
import { chQuery, waitForRows } from "./clickhouse";

const stack = inject("sdkStack");
const script = resolve(import.meta.dirname, "fixtures/node-app.mjs");

function runApp(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, EDGE: stack.edge, WRITE_KEY: stack.writeKey, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("exit", (code) => done({ code, stderr }));
  });
}

interface Row {
  type: string;
  event: string;
  user_id: string;
  library_name: string;
  platform: string;
  crash_type: string;
  crash_fatal: number;
}

const rowsOf = (user: string): Promise<Row[]> =>
  chQuery<Row>(
    stack.clickhouse,
    "SELECT type, event, user_id, library_name, platform, crash_type, crash_fatal FROM events WHERE app_id = {app:String} AND user_id = {user:String} ORDER BY timestamp",
    { app: stack.appId, user },
  );

it("sends a Node program's events when it exits, without an explicit flush", async () => {
  const run = `n${Date.now().toString(36)}`;
  const { code, stderr } = await runApp({ RUN: run });
  expect(code).toBe(0);
  expect(stderr).not.toContain("[telemetry]");
  const rows = await waitForRows(() => rowsOf(`user-${run}`), (r) => r.length >= 7);
  expect(rows.map((r) => r.type).sort()).toEqual(["identify", "perf", "perf", "perf", "track", "track", "track"]);
  expect(new Set(rows.map((r) => `${r.library_name}/${r.platform}`))).toEqual(new Set(["edge-telemetry-node/node"]));
  // The span tree rolls up as a transaction and its span, as a Sentry transaction would. The
  // view's rows commit after the table's, so they are waited for too.
  const txn = `nightly export ${run}`;
  const perf = await waitForRows(
    () =>
      chQuery<{ metric: string; kind: string; txn: string; platform: string; n: string }>(
        stack.clickhouse,
        `SELECT metric, kind, txn, platform, sum(n) AS n FROM perf_hourly
         WHERE app_id = {app:String} AND (txn = {txn:String} OR metric = {txn:String}) GROUP BY metric, kind, txn, platform ORDER BY kind DESC`,
        { app: stack.appId, txn },
      ),
    (r) => r.length >= 2,
  );
  expect(perf).toEqual([
    { metric: txn, kind: "transaction", txn: "", platform: "node", n: "1" },
    { metric: "db.query", kind: "span", txn, platform: "node", n: "1" },
  ]);
});

it("records an uncaught exception as a fatal crash, then exits with code 1 as Node would", async () => {
  const run = `c${Date.now().toString(36)}`;
  const { code, stderr } = await runApp({ RUN: run, CRASH: "1" });
  expect(code).toBe(1);
  expect(stderr).toContain(`node e2e crash ${run}`);
  const rows = await waitForRows(() => rowsOf(`user-${run}`), (r) => r.some((e) => e.type === "crash"));
  expect(rows.find((r) => r.type === "crash")).toMatchObject({ crash_type: "RangeError", crash_fatal: 1 });
});
