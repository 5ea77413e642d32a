// The dashboard as an attacker or a careless deployment would meet it: configuration that must
// not run, redirects built from input, forged forms, forged sessions and the first sign-up.
import { describe, expect, it } from "vitest";
import { LOCAL_SESSION_SECRET } from "../../dev/local";
import { dashboardEnv, type RawEnv } from "../app/env.server";

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

  it("allows them on a developer's machine (ENVIRONMENT=development)", () => {
    expect(configProblem({ ENVIRONMENT: "development", SESSION_SECRET: LOCAL_SESSION_SECRET, CLICKHOUSE_URL: "http://127.0.0.1:8123" })).toBe("");
  });
});
