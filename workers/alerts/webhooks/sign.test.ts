// What receivers run: the Standard Webhooks reference library must accept our signatures, with
// either secret during a rotation, and refuse a body changed on the way.
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signatureFor, signedHeaders } from "./sign";

const body = JSON.stringify({ type: "alert.firing", version: 1, value: 6, note: "ünïcode ✓" });

describe("Standard Webhooks signing", () => {
  it("makes whsec_ secrets of at least 24 random bytes, different each time", () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(a.slice(6)).length).toBeGreaterThanOrEqual(24);
    expect(a).not.toBe(b);
  });

  it("signs so the standardwebhooks library verifies the body", async () => {
    const secret = newWebhookSecret();
    const headers = await signedHeaders([secret], "msg_1", body, Date.now());
    expect(headers["webhook-id"]).toBe("msg_1");
    expect(headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it("gives the same signature as the library's own signer", async () => {
    const secret = newWebhookSecret();
    const at = new Date("2026-12-01T10:00:00Z");
    expect(await signatureFor(secret, "msg_2", at.getTime() / 1000, body)).toBe(new Webhook(secret).sign("msg_2", at, body));
  });

  it("during a rotation, receivers with the old or the new secret both verify", async () => {
    const oldSecret = newWebhookSecret();
    const newSecret = newWebhookSecret();
    const headers = await signedHeaders([newSecret, oldSecret], "msg_3", body, Date.now());
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it("a tampered body, id or a stale timestamp is refused", async () => {
    const secret = newWebhookSecret();
    const headers = await signedHeaders([secret], "msg_4", body, Date.now());
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('"value":6', '"value":7'), { ...headers })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, "webhook-id": "msg_5" })).toThrow(WebhookVerificationError);
    const stale = await signedHeaders([secret], "msg_4", body, Date.now() - 60 * 60_000);
    expect(() => wh.verify(body, { ...stale })).toThrow(WebhookVerificationError);
  });

  it("refuses to sign without a secret, or with one that is not whsec_", async () => {
    await expect(signedHeaders([], "msg_6", body, Date.now())).rejects.toThrow(/live secret/);
    await expect(signatureFor("not-a-secret", "msg_6", 1, body)).rejects.toThrow(/whsec_/);
  });
});
