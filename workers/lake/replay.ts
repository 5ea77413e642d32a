// Replaying an app's lake into ClickHouse, the way back after ClickHouse lost data: each file is one
// `INSERT INTO events FORMAT Parquet` straight from R2, and the materialized views rebuild the
// rollups from it (docs/decisions/0025-data-lake.md).
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { LakeReplay, LakeReplayResult } from "../../schemas/lake";
import { FILE_ROWS } from "./archive";
import { filesAfter, floorHour, storedRange, type LakeFile } from "./manifest";

/** What a replay needs: the app's bucket, the ClickHouse to fill, and how a file is inserted there. */
export interface ReplayDeps {
  bucket: R2Bucket;
  client: ClickHouseClient;
  insert(body: ReadableStream<Uint8Array>, settings: Record<string, string>): Promise<void>;
}

/** Whether ClickHouse already holds rows of this file (its app, stored hours and part). */
async function present(client: ClickHouseClient, appId: string, f: LakeFile): Promise<boolean> {
  const rs = await client.query({
    query: `SELECT count() AS n FROM events WHERE ${FILE_ROWS}`,
    query_params: { app: appId, ...storedRange(f), parts: f.parts, part: f.part - 1 },
    format: "JSONEachRow",
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0) > 0;
}

/**
 * Inserts the next page of an app's lake files in [from, to). A file whose rows ClickHouse already
 * holds is skipped, and each insert carries a deduplication token of its own, so replaying a range
 * again, or a request retried, stores nothing twice.
 */
export async function replayLake(deps: ReplayDeps, appId: string, req: LakeReplay): Promise<LakeReplayResult> {
  // One more than a page, to know whether more remain.
  const found = await filesAfter(deps.bucket, appId, { from: floorHour(Date.parse(req.from)), to: Date.parse(req.to), after: req.cursor, limit: req.limit + 1 });
  const page = found.slice(0, req.limit);
  const result: LakeReplayResult = { files: [], rowsInserted: 0, cursor: null };
  for (const f of page) {
    if (await present(deps.client, appId, f)) {
      result.files.push({ key: f.key, rows: f.rows, outcome: "present" });
      continue;
    }
    const object = await deps.bucket.get(f.key);
    if (object === null) throw new Error(`lake file ${f.key} is in the manifest but not in the bucket`);
    await deps.insert(object.body, { insert_deduplication_token: `lake:${f.key}:${f.writtenAt}` });
    result.files.push({ key: f.key, rows: f.rows, outcome: "inserted" });
    result.rowsInserted += f.rows;
  }
  const last = page.at(-1);
  if (found.length > page.length && last !== undefined) result.cursor = last.key;
  return result;
}
