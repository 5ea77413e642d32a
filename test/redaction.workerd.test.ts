// Redaction end to end inside workerd: personal data sent in every field an attacker would try,
// through the Worker, the AppBatcher and the queue consumer into the local ClickHouse, then every
// stored column read back. Ordinary values sent beside it must be stored exactly as sent.
import { describe, expect, it, vi } from "vitest";
import { attackerBatch, EMAIL, LEAKS, ORDINARY_PROPERTIES, ORDINARY_TRACK_COLUMNS, ORDINARY_UAS, ordinaryBatch } from "./fixtures/redaction-attacker";
import { chQuery, createTestApp, post } from "./seed";

type StoredRow = Record<string, unknown> & { message_id: string; properties: string; context: string };

async function ingest(batch: Array<Record<string, unknown>>): Promise<Map<string, StoredRow>> {
  const app = await createTestApp();
  const res = await post("/v1/batch", { batch }, { "x-write-key": app.key, "cf-connecting-ip": "203.0.113.77", "user-agent": ORDINARY_UAS[1] ?? "" });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ accepted: batch.length, rejected: [] });
  let rows: StoredRow[] = [];
  await vi.waitUntil(
    async () => {
      rows = await chQuery<StoredRow>("SELECT * FROM events WHERE app_id = {app:String} ORDER BY message_id", { app: app.appId });
      return rows.length >= batch.length;
    },
    { timeout: 25_000, interval: 250 },
  );
  return new Map(rows.map((r) => [r.message_id, r]));
}

const row = (rows: Map<string, StoredRow>, id: string): StoredRow => {
  const r = rows.get(id);
  if (!r) throw new Error(`no stored row ${id}`);
  return r;
};

describe("redaction as stored in ClickHouse", () => {
  it("keeps none of the attacker batch's personal data in any column, and hashes ids so one person stays one", async () => {
    const rows = await ingest(attackerBatch());
    for (const [id, r] of rows) {
      const text = JSON.stringify(r);
      for (const leak of LEAKS) expect(text, `${id}: ${leak}`).not.toContain(leak);
    }
    expect(row(rows, "atk-1")).toMatchObject({ net_path: "/v1/pay", net_status: 402 });
    expect(JSON.parse(row(rows, "atk-1").properties)).toMatchObject({ request: { error: "declined [card] for [email] phone [phone]" } });
    expect(row(rows, "atk-2")).toMatchObject({ crash_type: "CardDeclined [card] [email]" });
    expect(row(rows, "atk-5")).toMatchObject({ event: "Chat with [phone]", path: "Chat with [phone]" });
    expect(row(rows, "atk-6")).toMatchObject({ perf_metric: "ttfb [email]" });
    expect(row(rows, "atk-3")).toMatchObject({ event: "Signup [email]", locale: "[email]" });
    expect(JSON.parse(row(rows, "atk-3").properties)).toMatchObject({ "[email]": "vip", ref: "[card]", phone: "[phone]", dotted: "[card]", iban: "[iban]" });

    const userId = String(row(rows, "atk-7").user_id);
    expect(userId).toMatch(/^\[email:[0-9a-f]{16}\]$/);
    expect(JSON.parse(row(rows, "atk-8").properties)).toMatchObject({ previousId: userId });
    expect(Number(row(rows, "atk-3").redactions)).toBeGreaterThan(5);
  });

  it("stores ordinary values exactly as sent", async () => {
    const rows = await ingest(ordinaryBatch());
    for (const [id, r] of rows) expect(Number(r.redactions), id).toBe(0);
    const track = row(rows, "ok-1");
    expect(JSON.parse(track.properties)).toEqual(ORDINARY_PROPERTIES);
    expect(track).toMatchObject(ORDINARY_TRACK_COLUMNS);
    expect(JSON.parse(track.context)).toMatchObject({ userAgent: ORDINARY_UAS[0], network: { carrier: "T-Mobile" } });
    expect(row(rows, "ok-3")).toMatchObject({ event: "ProductDetail", path: "ProductDetail" });
    expect(row(rows, "ok-6")).toMatchObject({ crash_type: "TypeError" });
  });
});
