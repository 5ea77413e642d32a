import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { DashboardEnv } from "../env.server";
import { csrfBinding, csrfForm, csrfToken, ensureCsrfToken } from "./csrf.server";
import { hashPassword, verifyPassword } from "./password.server";
import { can, canGrant, ROLES } from "./permissions";
import { issueSessionToken, rotateSession, sessionCookie, verifySessionToken } from "./session.server";

const SECRET = "a-test-secret-that-is-long-enough-000000";

describe("passwords", () => {
  it("verifies the right password only, with a fresh salt each time", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterz", a)).toBe(false);
    expect(await verifyPassword("x", "garbage")).toBe(false);
    expect(await verifyPassword("x", "pbkdf2-sha256$9999999$00$00")).toBe(false);
  });
});

describe("sessions", () => {
  it("accepts its own tokens and refuses tampered, foreign or expired ones", async () => {
    const token = await issueSessionToken(SECRET, "usr_1", 3);
    expect(await verifySessionToken(SECRET, token)).toMatchObject({ userId: "usr_1", version: 3 });
    expect(await verifySessionToken(`${SECRET}x`, token)).toBeNull();
    expect(await verifySessionToken(SECRET, `${token.slice(0, -2)}xx`)).toBeNull();
    const old = await issueSessionToken(SECRET, "usr_1", 3, Date.now() - 13 * 3600_000);
    expect(await verifySessionToken(SECRET, old)).toBeNull();
  });

  it("refuses a correctly signed token without an expiry, or issued in the future", async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const signed = (build: (jwt: SignJWT) => SignJWT) => build(new SignJWT({ sv: 0 }).setProtectedHeader({ alg: "HS256" }).setSubject("usr_1")).sign(key);
    expect(await verifySessionToken(SECRET, await signed((j) => j.setIssuedAt(now).setExpirationTime(now + 3600)))).not.toBeNull();
    expect(await verifySessionToken(SECRET, await signed((j) => j.setIssuedAt(now)))).toBeNull();
    expect(await verifySessionToken(SECRET, await signed((j) => j.setIssuedAt(now + 3600).setExpirationTime(now + 7200)))).toBeNull();
    expect(await verifySessionToken(SECRET, await signed((j) => j.setIssuedAt(now - 60).setExpirationTime(now + 10 * 365 * 86400)))).toBeNull();
    // A clock a few seconds ahead on another server is not a forgery.
    expect(await verifySessionToken(SECRET, await signed((j) => j.setIssuedAt(now + 30).setExpirationTime(now + 3600)))).not.toBeNull();
  });

  it("sets HttpOnly SameSite cookies, Secure everywhere but local http", () => {
    expect(sessionCookie(new Request("https://dash.example.com/"), "t")).toMatch(/HttpOnly; SameSite=Lax; Max-Age=43200; Secure$/);
    expect(sessionCookie(new Request("http://127.0.0.1:8788/"), "t")).not.toContain("Secure");
  });

  it("reissues a token older than an hour and leaves fresh ones alone", async () => {
    const stale = await issueSessionToken(SECRET, "usr_1", 0, Date.now() - 2 * 3600_000);
    const req = (t: string) => new Request("https://dash.example.com/apps", { headers: { cookie: `__session=${t}` } });
    const rotated = await rotateSession(req(stale), new Response("ok"), SECRET);
    const cookie = rotated.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^__session=/);
    const fresh = decodeURIComponent(/^__session=([^;]+)/.exec(cookie)?.[1] ?? "");
    expect((await verifySessionToken(SECRET, fresh))?.issuedAt).toBeGreaterThan(Date.now() / 1000 - 60);
    const untouched = await rotateSession(req(fresh), new Response("ok"), SECRET);
    expect(untouched.headers.get("set-cookie")).toBeNull();
  });
});

describe("CSRF", () => {
  const env: DashboardEnv = { db: {} as D1Database, sessionSecret: SECRET, clickhouse: { url: "http://127.0.0.1:8123", database: "default" }, development: true, setupToken: null };
  const browser = "ab".repeat(24);
  const post = (headers: Record<string, string>, token: string | null) => {
    const body = new URLSearchParams(token === null ? {} : { csrf: token });
    return new Request("https://dash.example.com/apps", { method: "POST", headers, body });
  };
  const status = async (request: Request): Promise<number> => {
    try {
      await csrfForm(request, env);
      return 200;
    } catch (err) {
      return err instanceof Response ? err.status : 500;
    }
  };

  it("gives a browser without an id a new one, and its forms a token the server can check", async () => {
    const first = await ensureCsrfToken(new Request("https://dash.example.com/login"), env);
    const id = /^__csrf=([0-9a-f]{48});/.exec(first.setCookie ?? "")?.[1] ?? "";
    expect(id).not.toBe("");
    expect(first.token).not.toBe(id);
    expect(await status(post({ cookie: `__csrf=${id}`, origin: "https://dash.example.com" }, first.token))).toBe(200);
    const again = await ensureCsrfToken(new Request("https://dash.example.com/login", { headers: { cookie: `__csrf=${id}` } }), env);
    expect(again).toEqual({ token: first.token, setCookie: null });
  });

  it("refuses a cookie and field the sender chose, however equal", async () => {
    expect(await status(post({ cookie: `__csrf=${browser}` }, browser))).toBe(403);
    expect(await status(post({ cookie: "__csrf=x" }, "x"))).toBe(403);
  });

  it("binds the token to the browser and, once signed in, to the session", async () => {
    const anonymous = await csrfToken(SECRET, csrfBinding(browser, null));
    const session = await issueSessionToken(SECRET, "usr_1", 3);
    const signedIn = await csrfToken(SECRET, csrfBinding(browser, { userId: "usr_1", version: 3, issuedAt: 0 }));
    expect(await status(post({ cookie: `__csrf=${browser}` }, anonymous))).toBe(200);
    expect(await status(post({ cookie: `__csrf=${"cd".repeat(24)}` }, anonymous))).toBe(403);
    expect(await status(post({ cookie: `__csrf=${browser}; __session=${session}` }, signedIn))).toBe(200);
    expect(await status(post({ cookie: `__csrf=${browser}; __session=${session}` }, anonymous))).toBe(403);
    const otherUser = await issueSessionToken(SECRET, "usr_2", 3);
    expect(await status(post({ cookie: `__csrf=${browser}; __session=${otherUser}` }, signedIn))).toBe(403);
    const afterSignOut = await issueSessionToken(SECRET, "usr_1", 4);
    expect(await status(post({ cookie: `__csrf=${browser}; __session=${afterSignOut}` }, signedIn))).toBe(403);
    expect(await csrfToken(`${SECRET}x`, csrfBinding(browser, null))).not.toBe(anonymous);
  });

  it("refuses a missing token, other origins, and a body that is not a form", async () => {
    const token = await csrfToken(SECRET, csrfBinding(browser, null));
    expect(await status(post({ cookie: `__csrf=${browser}` }, null))).toBe(403);
    expect(await status(post({}, token))).toBe(403);
    expect(await status(post({ cookie: `__csrf=${browser}`, origin: "https://evil.example" }, token))).toBe(403);
    expect(await status(post({ cookie: `__csrf=${browser}`, origin: "null" }, token))).toBe(403);
    expect(await status(post({ cookie: `__csrf=${browser}`, "sec-fetch-site": "cross-site" }, token))).toBe(403);
    const json = new Request("https://dash.example.com/apps", { method: "POST", headers: { cookie: `__csrf=${browser}`, "content-type": "application/json" }, body: "{}" });
    expect(await status(json)).toBe(400);
  });
});

describe("roles", () => {
  it("lets only owners change the organisation and viewers change nothing", () => {
    expect(ROLES.filter((r) => can(r, "org:update"))).toEqual(["owner"]);
    for (const p of ["app:create", "app:update", "app:delete", "key:create", "key:revoke", "member:invite", "data:export"] as const) expect(can("viewer", p)).toBe(false);
    expect(ROLES.every((r) => can(r, "data:read"))).toBe(true);
  });
});

describe("granting roles", () => {
  it("lets owners grant every role and admins every role but owner", () => {
    expect(ROLES.filter((r) => canGrant("owner", r))).toEqual(ROLES);
    expect(ROLES.filter((r) => canGrant("admin", r))).toEqual(["admin", "developer", "analyst", "viewer"]);
    expect(canGrant("developer", "viewer")).toBe(true);
    expect(canGrant("developer", "admin")).toBe(false);
  });
});
