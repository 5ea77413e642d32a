import { describe, expect, it } from "vitest";
import { LIMITS } from "../schemas";
import { groupForSend, planMessages } from "./packing";

describe("planMessages", () => {
  it("packs rows in order into messages under the size limit, each row once", () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ seq: i + 1, bytes: 500 + (i % 7) * 100 }));
    const msgs = planMessages(rows, "app:0", 120 * 1024);
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(m.bytes + 256).toBeLessThanOrEqual(120 * 1024);
    expect(msgs.reduce((n, m) => n + m.rows, 0)).toBe(1000);
    for (let i = 1; i < msgs.length; i++) expect(msgs[i]?.firstSeq).toBe((msgs[i - 1]?.lastSeq ?? 0) + 1);
    expect(msgs[0]?.batchId).toBe("app:0:1");
  });

  it("names a batch by its first row, so planning the same rows again gives the same ids", () => {
    const rows = [{ seq: 7, bytes: 10 }, { seq: 8, bytes: 10 }];
    expect(planMessages(rows, "a:1", 1000)).toEqual(planMessages(rows, "a:1", 1000));
  });
});

describe("groupForSend", () => {
  it("keeps each sendBatch within 100 messages and 256 KB", () => {
    const msgs = planMessages(Array.from({ length: 3000 }, (_, i) => ({ seq: i, bytes: 900 })), "a:0", 120 * 1024);
    const groups = groupForSend(msgs);
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(100);
      expect(g.reduce((n, m) => n + m.bytes + 256, 0)).toBeLessThanOrEqual(256 * 1024);
    }
    expect(groups.flat()).toEqual(msgs);
    const small = groupForSend(planMessages(Array.from({ length: 300 }, (_, i) => ({ seq: i, bytes: 10 })), "a:0", 200));
    for (const g of small) expect(g.length).toBeLessThanOrEqual(100);
  });

  it("counts a kilobyte as 1,000 bytes, as Cloudflare does: 42 KB chunks never make a 256,000-byte sendBatch", () => {
    const msgs = planMessages(Array.from({ length: 12 }, (_, i) => ({ seq: i + 1, bytes: 86_000 })), "a:0", LIMITS.maxQueueMessageBytes);
    for (const g of groupForSend(msgs)) expect(g.reduce((n, m) => n + m.bytes + 256, 0)).toBeLessThanOrEqual(256_000);
    expect(LIMITS.maxQueueMessageBytes).toBeLessThanOrEqual(128_000 - 256);
    expect(LIMITS.maxRowBytes + 256).toBeLessThanOrEqual(LIMITS.maxQueueMessageBytes);
  });
});
