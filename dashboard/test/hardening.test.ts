// The dashboard as an attacker or a careless deployment would meet it: configuration that must
// not run, redirects built from input, forged forms, forged sessions and the first sign-up.
import type { AppLoadContext } from "@remix-run/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_SESSION_SECRET } from "../../dev/local";
import { dashboardEnv, type RawEnv } from "../app/env.server";
import * as signupPage from "../app/routes/signup";
import { browserRequest, ORIGIN, ownerWithApps, run, startHarness, type Harness } from "./harness";
import { startDashboardServer, type DashboardServer } from "./server";

const db = {} as D1Database;
const deployed = {
  DB: db,
  SESSION_SECRET: "a-deployed-session-secret-of-enough-length",
  CLICKHOUSE_URL: "https://abc123.eu-west-1.aws.clickhouse.cloud:8443",
  CLICKHOUSE_USER: "dashboard_ro",
  CLICKHOUSE_PASSWORD: "a-real-password",
};
const configProblem = (vars: Record<string, unknown>): string => {
  try {
    dashboardEnv({ ...vars, DB: db } as RawEnv);
    return "";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

describe("configuration of a deployed dashboard", () => {
  it("runs with its own ClickHouse, credentials and secret", () => {
    expect(configProblem(deployed)).toBe("");
  });

  it("refuses a loopback ClickHouse, missing credentials and the local session secret, naming each", () => {
    expect(configProblem({ ...deployed, CLICKHOUSE_URL: "http://127.0.0.1:8123" })).toMatch(/CLICKHOUSE_URL points at loopback/);
    expect(configProblem({ ...deployed, CLICKHOUSE_URL: "http://localhost:8123" })).toMatch(/CLICKHOUSE_URL/);
    expect(configProblem({ ...deployed, CLICKHOUSE_USER: undefined })).toMatch(/CLICKHOUSE_USER is not set/);
    expect(configProblem({ ...deployed, CLICKHOUSE_PASSWORD: "" })).toMatch(/CLICKHOUSE_PASSWORD is not set/);
    expect(configProblem({ ...deployed, SESSION_SECRET: LOCAL_SESSION_SECRET })).toMatch(/SESSION_SECRET is the local development default/);
    expect(configProblem({ ...deployed, ENVIRONMENT: "production", CLICKHOUSE_URL: "http://[::1]:8123" })).toMatch(/CLICKHOUSE_URL/);
  });

  it("refuses a setup token short enough to guess", () => {
    expect(configProblem({ ...deployed, SETUP_TOKEN: "short" })).toMatch(/SETUP_TOKEN must be at least 16/);
    expect(configProblem({ ...deployed, SETUP_TOKEN: "" })).toBe("");
  });

  it("allows them on a developer's machine (ENVIRONMENT=development)", () => {
    expect(configProblem({ ENVIRONMENT: "development", SESSION_SECRET: LOCAL_SESSION_SECRET, CLICKHOUSE_URL: "http://127.0.0.1:8123" })).toBe("");
  });
});

describe("the dashboard as Pages serves it", () => {
  let h: Harness;
  let server: DashboardServer;
  let session: string;

  beforeAll(async () => {
    h = await startHarness();
    session = await ownerWithApps(h, [{ id: "app_hard", name: "Hardened" }]);
    server = await startDashboardServer(h);
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  const location = (res: Response): string => res.headers.get("location") ?? "";
  const sameSite = (target: string): boolean => new URL(target, ORIGIN).origin === ORIGIN;

  it("answers every request of a deployment that must not run with what is wrong", async () => {
    const deployedOnLoopback = { ...h.env, ENVIRONMENT: "production" };
    for (const path of ["/login", "/apps/app_hard", "/apps/app_hard/events.csv"]) {
      const res = await server.fetchWith(deployedOnLoopback, browserRequest(path, { session }));
      expect(res.status, path).toBe(500);
      const text = await res.text();
      expect(text).toMatch(/CLICKHOUSE_URL points at loopback/);
      expect(res.headers.get("cache-control")).toBe("private, no-store");
    }
  });

  it("sends signed-in pages with a nonce-based Content-Security-Policy and no caching", async () => {
    const res = await server.fetch(browserRequest("/apps/app_hard", { session }));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce, csp).toBeTruthy();
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await res.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const again = await server.fetch(browserRequest("/apps/app_hard", { session }));
    expect(again.headers.get("content-security-policy")).not.toBe(csp);
  });

  it("sends CSV downloads and redirects with no caching and a policy that runs nothing", async () => {
    for (const path of ["/apps/app_hard/events.csv", "/apps/app_hard/overview.csv"]) {
      const res = await server.fetch(browserRequest(path, { session }));
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/text\/csv/);
      expect(res.headers.get("cache-control")).toBe("private, no-store");
      expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
    }
    const redirect = await server.fetch(browserRequest("/apps/app_hard"));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("cache-control")).toBe("private, no-store");
  });

  it("never redirects a signed-in visitor of the sign-in page to another site", async () => {
    for (const next of ["/%09/evil.example:18999/p", "//evil.example", "/%5Cevil.example", "https://evil.example/", "/.//evil.example", "/..//evil.example", "/%2F%2Fevil.example", "/ /evil.example", "javascript:alert(1)"]) {
      const res = await server.fetch(browserRequest(`/login?next=${next}`, { session }));
      // A next with control characters is refused outright; every other one stays on this site.
      if (next.includes("%09")) {
        expect(res.status).toBe(400);
        continue;
      }
      expect(res.status, next).toBe(302);
      expect(sameSite(location(res)), `${next} -> ${location(res)}`).toBe(true);
    }
    const kept = await server.fetch(browserRequest(`/login?next=${encodeURIComponent("/apps/app_hard?range=7d")}`, { session }));
    expect(location(kept)).toBe("/apps/app_hard?range=7d");
  });

  it("never redirects after signing in to another site", async () => {
    for (const next of ["/.//evil.example:18999/p", "//evil.example", "/\\evil.example", "https://evil.example/"]) {
      const res = await server.fetch(browserRequest("/login", { form: { email: "o@example.com", password: "owner-password-1", next } }));
      expect(res.status, next).toBe(302);
      expect(sameSite(location(res)), `${next} -> ${location(res)}`).toBe(true);
    }
  });

  it("answers a form posted from another origin 403 with a reason, and a next with CR/LF 400", async () => {
    const foreign = browserRequest("/login", { form: { email: "o@example.com", password: "owner-password-1" } });
    foreign.headers.set("origin", "https://evil.example");
    const refused = await server.fetch(foreign);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/Cross-origin request refused/);
    for (const next of ["/apps%0d%0aSet-Cookie:%20x=1", "/apps%0aX: y"]) {
      const res = await server.fetch(browserRequest(`/login?next=${next}`, { session }));
      expect(res.status, next).toBe(400);
    }
    const posted = await server.fetch(browserRequest("/login", { form: { email: "o@example.com", password: "owner-password-1", next: "/apps\r\nX-Evil: 1" } }));
    expect(posted.status).toBe(400);
  });

  it("refuses a sign-in form whose CSRF cookie and field the sender chose", async () => {
    const chosen = "0".repeat(48);
    const forged = new Request(`${ORIGIN}/login`, {
      method: "POST",
      headers: { cookie: `__csrf=${chosen}`, origin: ORIGIN },
      body: new URLSearchParams({ csrf: chosen, email: "o@example.com", password: "owner-password-1" }),
    });
    const res = await server.fetch(forged);
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie") ?? "").not.toContain("__session=");
  });

  it("signs in a browser that posts the token its sign-in page gave it", async () => {
    const page = await server.fetch(new Request(`${ORIGIN}/login`));
    const cookie = /__csrf=([0-9a-f]+)/.exec(page.headers.get("set-cookie") ?? "")?.[1] ?? "";
    const token = /name="csrf" value="([0-9a-f]+)"/.exec(await page.text())?.[1] ?? "";
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const res = await server.fetch(
      new Request(`${ORIGIN}/login`, { method: "POST", headers: { cookie: `__csrf=${cookie}`, origin: ORIGIN }, body: new URLSearchParams({ csrf: token, email: "o@example.com", password: "owner-password-1" }) }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("set-cookie") ?? "").toContain("__session=");
  });
});

describe("the first sign-up of a deployed dashboard", () => {
  let h: Harness;
  const SETUP_TOKEN = "setup-token-from-a-secret-0123456789";
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const deployedContext = (vars: Record<string, string | undefined>): AppLoadContext => ({
    cloudflare: {
      env: { ...h.env, ENVIRONMENT: "production", CLICKHOUSE_URL: "https://clickhouse.example.com:8443", CLICKHOUSE_USER: "ro", CLICKHOUSE_PASSWORD: "pw", ...vars },
    },
  });
  const owner = { orgName: "Acme", name: "First", email: "first@example.com", password: "first-owner-password" };
  const signUp = (context: AppLoadContext, setupToken?: string) =>
    run(() => signupPage.action({ request: browserRequest("/signup", { form: setupToken === undefined ? owner : { ...owner, setupToken } }), params: {}, context }));
  const users = async (): Promise<number> => (await h.db.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>())?.n ?? -1;

  it("is closed while no SETUP_TOKEN secret is set, and says how to open it", async () => {
    const page = await run(() => signupPage.loader({ request: browserRequest("/signup"), params: {}, context: deployedContext({}) }));
    expect(await page.json()).toMatchObject({ setup: "closed" });
    const res = await signUp(deployedContext({}), "anything-at-all");
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringContaining("SETUP_TOKEN") });
    expect(await users()).toBe(0);
  });

  it("needs the setup token, compared whole", async () => {
    const context = deployedContext({ SETUP_TOKEN });
    const page = await run(() => signupPage.loader({ request: browserRequest("/signup"), params: {}, context }));
    expect(await page.json()).toMatchObject({ setup: "token" });
    for (const given of [undefined, "", "wrong", SETUP_TOKEN.slice(0, -1), `${SETUP_TOKEN}x`]) {
      const res = await signUp(context, given);
      expect(res.status, String(given)).toBe(403);
      expect(await res.json()).toEqual({ error: expect.stringContaining("setup token") });
    }
    expect(await users()).toBe(0);
    const res = await signUp(context, SETUP_TOKEN);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/apps");
    expect(await users()).toBe(1);
    const later = await signUp(context, SETUP_TOKEN);
    expect(later.headers.get("location")).toBe("/login");
    expect(await users()).toBe(1);
  });

  it("needs no token on a developer's machine", async () => {
    await h.db.batch(["DELETE FROM memberships", "DELETE FROM orgs", "DELETE FROM users"].map((q) => h.db.prepare(q)));
    const page = await run(() => signupPage.loader({ request: browserRequest("/signup"), params: {}, context: h.context }));
    expect(await page.json()).toMatchObject({ setup: "open" });
    expect((await signUp(h.context)).status).toBe(302);
    expect(await users()).toBe(1);
  });
});
