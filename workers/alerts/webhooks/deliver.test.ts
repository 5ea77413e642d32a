// Delivery against a real HTTP receiver on this machine (Node's http server: attemptDelivery
// uses only fetch and WebCrypto, as in the Worker), verified as a receiver would verify it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptDelivery, EXCERPT_BYTES, GIVE_UP_AFTER_MS, nextAttemptAt } from "./deliver";
import { newWebhookSecret } from "./sign";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

const received: Received[] = [];
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const body = JSON.stringify({ type: "alert.firing", version: 1, id: "msg_d1" });

describe("attemptDelivery", () => {
  it("POSTs the body with Standard Webhooks headers that the library verifies", async () => {
    handler = (_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("thanks");
    const secret = newWebhookSecret();
    const r = await attemptDelivery({ url: `${base}/hook`, id: "msg_d1", body, secrets: [secret], localMode: true });
    expect(r).toMatchObject({ ok: true, status: 200, error: null, excerpt: "thanks" });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    const got = received.at(-1);
    expect(got?.body).toBe(body);
    expect(got?.headers["content-type"]).toBe("application/json");
    const headers = { "webhook-id": String(got?.headers["webhook-id"]), "webhook-timestamp": String(got?.headers["webhook-timestamp"]), "webhook-signature": String(got?.headers["webhook-signature"]) };
    expect(new Webhook(secret).verify(got?.body ?? "", headers)).toEqual(JSON.parse(body));
  });

  it("a 500 is a failure with its status and what the receiver said", async () => {
    handler = (_req, res) => res.writeHead(500).end("database down");
    const r = await attemptDelivery({ url: `${base}/hook`, id: "msg_d2", body, secrets: [newWebhookSecret()], localMode: true });
    expect(r).toMatchObject({ ok: false, status: 500, error: null, excerpt: "database down" });
  });

  it("a redirect is not followed and counts as a failure", async () => {
    const before = received.length;
    handler = (req, res) => (req.url === "/moved" ? res.writeHead(302, { location: `${base}/elsewhere` }).end() : res.writeHead(200).end("followed"));
    const r = await attemptDelivery({ url: `${base}/moved`, id: "msg_d3", body, secrets: [newWebhookSecret()], localMode: true });
    expect(r).toMatchObject({ ok: false, status: 302, error: `redirect not followed (to ${base}/elsewhere)` });
    expect(received.slice(before).map((x) => x.body)).toHaveLength(1);
  });

  it("keeps at most 1 KB of a long answer", async () => {
    handler = (_req, res) => res.writeHead(200).end("é".repeat(5000));
    const r = await attemptDelivery({ url: `${base}/hook`, id: "msg_d4", body, secrets: [newWebhookSecret()], localMode: true });
    expect(r.ok).toBe(true);
    expect(new TextEncoder().encode(r.excerpt).byteLength).toBeLessThanOrEqual(EXCERPT_BYTES);
    expect(r.excerpt.startsWith("é".repeat(500))).toBe(true);
  });

  it("a receiver that does not answer in time is a timeout", async () => {
    handler = () => undefined;
    const r = await attemptDelivery({ url: `${base}/hang`, id: "msg_d5", body, secrets: [newWebhookSecret()], localMode: true, timeoutMs: 200 });
    expect(r).toMatchObject({ ok: false, status: null, error: "timed out after 0.2 s" });
  });

  it("a closed port is a connection error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await attemptDelivery({ url: `http://127.0.0.1:${port}/`, id: "msg_d6", body, secrets: [newWebhookSecret()], localMode: true });
    expect(r.ok).toBe(false);
    expect(r.status).toBeNull();
    expect(r.error).toMatch(/\S/);
  });

  it("refuses a URL the guard refuses, without sending anything", async () => {
    const before = received.length;
    const r = await attemptDelivery({ url: `${base}/hook`, id: "msg_d7", body, secrets: [newWebhookSecret()] });
    expect(r).toMatchObject({ ok: false, status: null, error: expect.stringMatching(/^refused: only https/), refused: true });
    const meta = await attemptDelivery({ url: "https://169.254.169.254/latest/meta-data/", id: "msg_d7", body, secrets: [newWebhookSecret()], localMode: true });
    expect(meta.error).toMatch(/^refused: .*link-local/);
    expect(received.length).toBe(before);
  });
});

describe("nextAttemptAt", () => {
  const t0 = Date.UTC(2026, 11, 1);
  const S = 1000;

  it("waits longer after each failure, within jitter bounds, and never more than an hour", () => {
    expect(nextAttemptAt(1, t0, t0, () => 0)).toBe(t0 + 15 * S);
    expect(nextAttemptAt(1, t0, t0, () => 1)).toBe(t0 + 30 * S);
    expect(nextAttemptAt(2, t0, t0, () => 1)).toBe(t0 + 60 * S);
    expect(nextAttemptAt(5, t0, t0, () => 0.5)).toBe(t0 + 360 * S);
    expect(nextAttemptAt(20, t0, t0, () => 1)).toBe(t0 + 3600 * S);
    expect(nextAttemptAt(20, t0, t0, () => 0)).toBe(t0 + 1800 * S);
  });

  it("retries for 24 hours after the first attempt, the last one at the 24 h mark, then gives up", () => {
    let now = t0;
    let attempts = 1;
    const times: number[] = [];
    for (let next = nextAttemptAt(attempts, t0, now); next !== null; next = nextAttemptAt(++attempts, t0, now)) {
      expect(next).toBeGreaterThan(now);
      times.push(next);
      now = next;
    }
    expect(times.at(-1)).toBe(t0 + GIVE_UP_AFTER_MS);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(60);
    expect(nextAttemptAt(attempts, t0, t0 + GIVE_UP_AFTER_MS + 1)).toBeNull();
  });
});
