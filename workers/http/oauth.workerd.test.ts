// The client credentials grant against the real local D1: a client's id and secret become a
// short-lived ES256 token that verifies against the published JWKS; wrong secrets, other grants,
// scopes the client lacks, revoked clients and expired tokens are refused in RFC 6749's words;
// a rotated secret overlaps, and a rotated signing key stays published for the tokens it signed.
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp, inOrg } from "../apps/store";
import { createClient, revokeClient, rotateSecret } from "../oauth/clients";
import { clearSigningKeyCache, ROTATE_AFTER_MS, signingKey } from "../oauth/signing-keys";
import { AUDIENCE, clearClientLiveness, ISSUER, issueToken, TOKEN_TTL_SECONDS, verifyAccessToken } from "../oauth/tokens";
import { app } from "./app";

const SCOPES = ["data:read", "app:update", "flag:update"];

async function newOrg(): Promise<{ org: string; appId: string }> {
  const org = `org_${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(org, Date.now()).run();
  const appId = `app_oa_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, inOrg(org), { id: appId, name: appId })).not.toBe("unavailable");
  return { org, appId };
}

async function newClient(scopes = ["data:read", "flag:update"]) {
  const { org, appId } = await newOrg();
  const made = await createClient(env.DB, org, { name: "reporting", scopes, appIds: [appId] }, SCOPES, "ana@example.com");
  if (!made.ok) throw new Error(made.reason);
  return { org, appId, client: made.client, secret: made.secret };
}

const token = (body: string, headers: Record<string, string> = {}) =>
  SELF.fetch("https://edge.test/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });
const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

beforeEach(() => {
  clearClientLiveness();
  clearSigningKeyCache();
});

describe("POST /oauth/token", () => {
  it("trades a client's id and secret, as Basic credentials or in the body, for a token of its scopes that verifies against the JWKS", async () => {
    const { org, appId, client, secret } = await newClient();
    for (const res of [await token("grant_type=client_credentials", { authorization: basic(client.id, secret) }), await token(`grant_type=client_credentials&client_id=${client.id}&client_secret=${secret}`)]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const body = await res.json<{ access_token: string; token_type: string; expires_in: number; scope: string }>();
      expect(body).toMatchObject({ token_type: "Bearer", expires_in: TOKEN_TTL_SECONDS, scope: "data:read flag:update" });
      const jwks = createLocalJWKSet(await (await SELF.fetch("https://edge.test/.well-known/jwks.json")).json());
      const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer: ISSUER, audience: AUDIENCE });
      expect(protectedHeader.alg).toBe("ES256");
      expect(payload).toMatchObject({ sub: client.id, org, scope: "data:read flag:update", apps: [appId] });
      expect(await verifyAccessToken(env.DB, body.access_token)).toEqual({ clientId: client.id, orgId: org, scopes: ["data:read", "flag:update"], appIds: [appId] });
    }
  });

  it("grants fewer scopes when asked, and refuses a scope the client does not hold", async () => {
    const { client, secret } = await newClient();
    const fewer = await token("grant_type=client_credentials&scope=data%3Aread", { authorization: basic(client.id, secret) });
    expect(await fewer.json()).toMatchObject({ scope: "data:read" });
    const more = await token("grant_type=client_credentials&scope=data%3Aread+app%3Aupdate", { authorization: basic(client.id, secret) });
    expect(more.status).toBe(400);
    expect(await more.json()).toMatchObject({ error: "invalid_scope" });
  });

  it("refuses a wrong secret, an unknown client, no credentials and another grant, in RFC 6749's terms", async () => {
    const { client, secret } = await newClient();
    const wrong = await token("grant_type=client_credentials", { authorization: basic(client.id, `${secret}x`) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("Basic");
    expect(await wrong.json()).toMatchObject({ error: "invalid_client" });
    expect((await token("grant_type=client_credentials", { authorization: basic("cli_000000000000000000000000", secret) })).status).toBe(401);
    expect(await (await token("grant_type=client_credentials")).json()).toMatchObject({ error: "invalid_client" });
    const password = await token(`grant_type=password&client_id=${client.id}&client_secret=${secret}`);
    expect(password.status).toBe(400);
    expect(await password.json()).toMatchObject({ error: "unsupported_grant_type" });
    expect(await (await token("")).json()).toMatchObject({ error: "invalid_request" });
  });

  it("stops a revoked client's secret at once and its tokens within the minute its liveness is remembered", async () => {
    const { org, client, secret } = await newClient();
    const issued = await (await token("grant_type=client_credentials", { authorization: basic(client.id, secret) })).json<{ access_token: string }>();
    expect(await revokeClient(env.DB, org, client.id)).toBe(true);
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, secret) })).status).toBe(401);
    clearClientLiveness();
    await expect(verifyAccessToken(env.DB, issued.access_token)).rejects.toThrow(/revoked/);
  });

  it("keeps the old secret working through a rotation's overlap, and not after", async () => {
    const { org, client, secret } = await newClient();
    const now = Date.now();
    const rotated = await rotateSecret(env.DB, org, client.id, 60_000, now);
    if (!rotated) throw new Error("no rotation");
    expect(rotated.secret).not.toBe(secret);
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, secret) })).status).toBe(200);
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, rotated.secret) })).status).toBe(200);
    await rotateSecret(env.DB, org, client.id, 0, now + 1);
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, secret) })).status).toBe(401);
  });

  it("refuses an expired token and one signed by a key it does not publish", async () => {
    const { client } = await newClient();
    const t0 = Date.now();
    const issued = await issueToken(env.DB, "local-only-oauth-key-secret-do-not-deploy-00", client, client.scopes, t0);
    await expect(verifyAccessToken(env.DB, issued.access_token, t0 + (TOKEN_TTL_SECONDS + 1) * 1000)).rejects.toThrow(/expired/);
    const [h, p] = issued.access_token.split(".");
    await expect(verifyAccessToken(env.DB, `${h}.${p}.AAAA`, t0)).rejects.toThrow(/not valid/);
  });

  it("signs with a new key once the current one is old, and still verifies tokens the old one signed", async () => {
    const { client } = await newClient();
    const secret = "local-only-oauth-key-secret-do-not-deploy-00";
    const t0 = Date.now();
    const before = await signingKey(env.DB, secret, t0);
    const later = before.createdAt + ROTATE_AFTER_MS + 1;
    // Signed a minute before the key comes of age, so still valid after the rotation.
    const old = await issueToken(env.DB, secret, client, client.scopes, later - 60_000);
    expect(decodeProtectedHeader(old.access_token).kid).toBe(before.kid);
    const after = await signingKey(env.DB, secret, later);
    expect(after.kid).not.toBe(before.kid);
    const published = await (await SELF.fetch("https://edge.test/.well-known/jwks.json")).json<{ keys: Array<{ kid: string }> }>();
    expect(published.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before.kid, after.kid]));
    await expect(verifyAccessToken(env.DB, old.access_token, later)).resolves.toMatchObject({ clientId: client.id });
  });

  it("is off, saying why, on a deployment without OAUTH_KEY_SECRET", async () => {
    const deployed = { ...env, ENVIRONMENT: "production", CLICKHOUSE_URL: "https://ch.example.com", CLICKHOUSE_USER: "u", CLICKHOUSE_PASSWORD: "p", ADMIN_TOKEN: "a-real-token", DASHBOARD_URL: "https://telemetry.example.com" };
    const res = await app.fetch(new Request("https://edge.test/oauth/token", { method: "POST", body: "grant_type=client_credentials" }), deployed, createExecutionContext());
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: "temporarily_unavailable", error_description: expect.stringContaining("OAUTH_KEY_SECRET") });
  });
});

describe("API clients", () => {
  it("refuses unknown scopes, no scopes, and apps of another organisation", async () => {
    const { org } = await newOrg();
    const other = await newOrg();
    expect(await createClient(env.DB, org, { name: "x", scopes: ["data:read", "root"] }, SCOPES, "ana")).toMatchObject({ ok: false, reason: expect.stringContaining("root") });
    expect(await createClient(env.DB, org, { name: "x", scopes: [] }, SCOPES, "ana")).toMatchObject({ ok: false });
    expect(await createClient(env.DB, org, { name: "x", scopes: ["data:read"], appIds: [other.appId] }, SCOPES, "ana")).toMatchObject({ ok: false, reason: expect.stringContaining(other.appId) });
  });
});

describe("the admin API with an access token", () => {
  async function bearer(scopes: string[], appIds?: string[]) {
    const { org, appId } = await newOrg();
    const made = await createClient(env.DB, org, { name: "ci", scopes, appIds: appIds ?? null }, ["data:read", "app:create", "app:update", "key:create", "flag:update", "alert:update", "privacy:manage"], "ana");
    if (!made.ok) throw new Error(made.reason);
    const issued = await (await token("grant_type=client_credentials", { authorization: basic(made.client.id, made.secret) })).json<{ access_token: string }>();
    const call = (method: string, path: string, body?: unknown) =>
      SELF.fetch(`https://edge.test/admin${path}`, { method, headers: { authorization: `Bearer ${issued.access_token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { org, appId, client: made.client, call };
  }

  it("reads its organisation's apps, and not another organisation's", async () => {
    const other = await newOrg();
    const { appId, call } = await bearer(["data:read"]);
    expect(await (await call("GET", "/apps")).json()).toMatchObject({ apps: [{ id: appId }] });
    expect((await call("GET", `/apps/${appId}`)).status).toBe(200);
    const refused = await call("GET", `/apps/${other.appId}`);
    expect(refused.status).toBe(404);
    expect((await call("GET", `/apps/${other.appId}/flags`)).status).toBe(404);
  });

  it("is refused what its scopes do not cover, with RFC 6750's insufficient_scope, and every operator-only route", async () => {
    const { appId, call } = await bearer(["data:read"]);
    const res = await call("POST", `/apps/${appId}/flags`, { key: "x" });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("flag:update");
    expect((await call("GET", "/dead-letters")).status).toBe(403);
    expect((await call("POST", `/apps/${appId}/keys`, { name: "x" })).status).toBe(403);
  });

  it("changes what its scopes cover, recorded as the client's change, and only on the apps its token lists", async () => {
    const { org, appId, client, call } = await bearer(["data:read", "flag:update", "app:create"]);
    const created = await call("POST", `/apps/${appId}/flags`, { key: "beta", name: "Beta", enabled: true, variants: [{ key: "on", value: true }, { key: "off", value: false }], rules: [], fallthrough: { variant: "off" }, offVariant: "off" });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ flag: { updatedBy: `client:${client.id}` } });
    const app = await call("POST", "/apps", { id: `app_oa_${crypto.randomUUID().slice(0, 8)}`, name: "Made by a client" });
    expect(app.status).toBe(201);
    const made = await app.json<{ app: { id: string } }>();
    expect(await env.DB.prepare("SELECT org_id FROM apps WHERE id = ?").bind(made.app.id).first()).toEqual({ org_id: org });
  });

  it("a token limited to some apps sees only those", async () => {
    const { org, appId } = await newOrg();
    const second = `app_oa_${crypto.randomUUID().slice(0, 8)}`;
    expect(await createApp(env.DB, inOrg(org), { id: second, name: second })).not.toBe("unavailable");
    const made = await createClient(env.DB, org, { name: "one app", scopes: ["data:read"], appIds: [appId] }, SCOPES, "ana");
    if (!made.ok) throw new Error(made.reason);
    const issued = await (await token("grant_type=client_credentials", { authorization: basic(made.client.id, made.secret) })).json<{ access_token: string }>();
    const get = (path: string) => SELF.fetch(`https://edge.test/admin${path}`, { headers: { authorization: `Bearer ${issued.access_token}` } });
    expect(await (await get("/apps")).json()).toEqual({ apps: [expect.objectContaining({ id: appId })] });
    expect((await get(`/apps/${second}`)).status).toBe(404);
  });

  it("refuses a forged or expired token with invalid_token", async () => {
    const res = await SELF.fetch("https://edge.test/admin/apps", { headers: { authorization: "Bearer aaa.bbb.ccc" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });
});

describe("the operator's API client routes", () => {
  const operator = (method: string, path: string, body?: unknown) =>
    SELF.fetch(`https://edge.test/admin/orgs${path}`, { method, headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

  it("makes a client whose secret gets a token, lists, rotates and revokes it; a client's own token cannot reach them", async () => {
    const { org, appId } = await newOrg();
    const made = await operator("POST", `/${org}/api-clients`, { name: "warehouse", scopes: ["data:read"], appIds: [appId] });
    expect(made.status, await made.clone().text()).toBe(201);
    const { client, secret } = await made.json<{ client: { id: string }; secret: string }>();
    expect(secret).toMatch(/^cs_[0-9a-f]{64}$/);
    expect(await (await operator("GET", `/${org}/api-clients`)).json()).toMatchObject({ clients: [{ id: client.id, name: "warehouse", scopes: ["data:read"], appIds: [appId], revokedAt: null }] });
    const issued = await (await token("grant_type=client_credentials", { authorization: basic(client.id, secret) })).json<{ access_token: string }>();
    const own = await SELF.fetch(`https://edge.test/admin/orgs/${org}/api-clients`, { headers: { authorization: `Bearer ${issued.access_token}` } });
    expect(own.status).toBe(403);

    const rotated = await (await operator("POST", `/${org}/api-clients/${client.id}/rotate`, { overlapSeconds: 0 })).json<{ secret: string }>();
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, secret) })).status).toBe(401);
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, rotated.secret) })).status).toBe(200);
    expect((await operator("DELETE", `/${org}/api-clients/${client.id}`)).status).toBe(200);
    expect((await token("grant_type=client_credentials", { authorization: basic(client.id, rotated.secret) })).status).toBe(401);
    expect((await operator("POST", `/${org}/api-clients`, { name: "x", scopes: ["everything"] })).status).toBe(400);
    expect((await operator("GET", "/org_nope/api-clients")).status).toBe(404);
  });
});
