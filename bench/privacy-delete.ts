// What deleting one person costs: a million events of 10,000 people over 30 days in the local
// ClickHouse (through the same views as production), then one deletion request run by the job
// as the cron runs it. Prints the time of each job run and the rows removed.
//   npm run bench:privacy -- [events]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { Miniflare } from "miniflare";
import { startClickHouseServer } from "../dev/clickhouse/server";
import { migrateClickHouse } from "../dev/migrate-clickhouse";
import { D1_EXECUTOR_SCRIPT, remoteD1 } from "../dashboard/test/d1";
import { createApp, OPERATOR } from "../workers/apps/store";
import { runDeletions } from "../workers/privacy/job";
import { requestDeletion } from "../workers/privacy/requests";

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const PEOPLE = 10_000;
const root = resolve(import.meta.dirname, "..");

const dir = await mkdtemp(join(tmpdir(), "privacy-bench-"));
const ch = await startClickHouseServer({ dataDir: join(dir, "ch"), port: 0 });
const mf = new Miniflare({ modules: true, script: D1_EXECUTOR_SCRIPT, d1Databases: { DB: "privacy-bench" } });
try {
  await migrateClickHouse({ url: ch.url, username: ch.user, password: ch.password });
  const client = createClient({ url: ch.url, username: ch.user, password: ch.password, request_timeout: 300_000, clickhouse_settings: { send_progress_in_http_headers: 1 } });
  const db = remoteD1(mf);
  for (const m of await readD1Migrations(resolve(root, "schemas/sql/d1"))) await db.batch(m.queries.map((q) => db.prepare(q)));
  await createApp(db, OPERATOR, { id: "app_bench", name: "bench" });

  let t = performance.now();
  // Each person: one anonymous id identified as their user id from the first event on.
  await client.command({
    query: `INSERT INTO events (app_id, type, event, message_id, user_id, anonymous_id, session_id, timestamp, original_timestamp, sent_at, received_at, inserted_at, properties, traits, context)
            SELECT 'app_bench', if(number < ${PEOPLE}, 'identify', 'track'), if(number < ${PEOPLE}, '', 'Viewed'), toString(number),
                   concat('u', toString(number % ${PEOPLE})), concat('a', toString(number % ${PEOPLE})), concat('s', toString(number % (${PEOPLE} * 5))),
                   now64(3) - toIntervalSecond(number % (30 * 86400)) AS ts, ts, ts, ts, now64(3), '{"plan":"pro"}', '{}', '{}'
            FROM numbers(${EVENTS})`,
    clickhouse_settings: { max_insert_block_size: "100000" },
  });
  console.log(`seeded ${EVENTS.toLocaleString("en")} events of ${PEOPLE.toLocaleString("en")} people in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const req = await requestDeletion(db, "app_bench", { userIds: ["u42"], anonymousIds: [] }, "bench");
  for (const offset of [1, 10]) {
    t = performance.now();
    const run = await runDeletions({ db, client }, req.requestedAt + offset * 60_000);
    console.log(`job run at +${offset} min: ${((performance.now() - t) / 1000).toFixed(2)} s, ${JSON.stringify(run)}`);
  }
  const done = await db.prepare("SELECT status, counts, resolved FROM privacy_requests WHERE id = ?1").bind(req.id).first();
  console.log(`request: ${JSON.stringify(done)}`);
  await client.close();
} finally {
  await mf.dispose();
  await ch.close();
  await rm(dir, { recursive: true, force: true });
}
