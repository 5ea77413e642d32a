import { describe, expect, it } from "vitest";
import { LOCAL_ADMIN_TOKEN } from "../dev/local";
import { config } from "./config";

const deployed = {
  CLICKHOUSE_URL: "https://abc123.eu-west-1.aws.clickhouse.cloud:8443",
  CLICKHOUSE_USER: "ingest",
  CLICKHOUSE_PASSWORD: "a-real-password",
  ADMIN_TOKEN: "an-operator-chosen-admin-token",
  DASHBOARD_URL: "https://telemetry.example.com/",
};

const problem = (env: Record<string, string | undefined>): string => {
  try {
    config({ ...env });
    return "";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

describe("config()", () => {
  it("accepts a complete deployed configuration", () => {
    expect(config({ ...deployed }).clickhouse).toMatchObject({ url: deployed.CLICKHOUSE_URL, username: "ingest", password: "a-real-password" });
    expect(config({ ...deployed }).dashboardUrl).toBe("https://telemetry.example.com");
  });

  it("refuses a deployed Worker that does not know where the dashboard is, since alert webhooks link to it", () => {
    expect(problem({ ...deployed, DASHBOARD_URL: undefined })).toMatch(/DASHBOARD_URL is not set/);
    expect(problem({ ...deployed, DASHBOARD_URL: "not a url" })).toMatch(/DASHBOARD_URL must be the dashboard's address/);
  });

  it("refuses a deployed Worker pointed at a loopback ClickHouse, naming the setting", () => {
    for (const url of ["http://127.0.0.1:8123", "http://127.9.9.9:8123", "http://localhost:8123", "http://LOCALHOST.:8123", "http://[::1]:8123", "http://0.0.0.0:8123", "http://api.localhost:8123"]) {
      expect(problem({ ...deployed, CLICKHOUSE_URL: url }), url).toMatch(/CLICKHOUSE_URL.*loopback/);
    }
  });

  it("refuses a deployed Worker without ClickHouse credentials", () => {
    expect(problem({ ...deployed, CLICKHOUSE_USER: undefined })).toMatch(/CLICKHOUSE_USER/);
    expect(problem({ ...deployed, CLICKHOUSE_PASSWORD: "" })).toMatch(/CLICKHOUSE_PASSWORD/);
  });

  it("refuses the local admin token in a deployed Worker", () => {
    expect(problem({ ...deployed, ADMIN_TOKEN: LOCAL_ADMIN_TOKEN })).toMatch(/ADMIN_TOKEN.*local/);
  });

  it("names every problem at once", () => {
    const message = problem({ CLICKHOUSE_URL: "http://127.0.0.1:8123", ADMIN_TOKEN: LOCAL_ADMIN_TOKEN });
    for (const name of ["CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "ADMIN_TOKEN"]) expect(message).toContain(name);
  });

  it("allows all of it in local development (ENVIRONMENT=development)", () => {
    const local = config({ ENVIRONMENT: "development", CLICKHOUSE_URL: "http://127.0.0.1:8123", ADMIN_TOKEN: LOCAL_ADMIN_TOKEN });
    expect(local.clickhouse.url).toBe("http://127.0.0.1:8123");
  });

  it("treats any other ENVIRONMENT value as deployed", () => {
    expect(problem({ ...deployed, ENVIRONMENT: "production", CLICKHOUSE_URL: "http://localhost:8123" })).toMatch(/CLICKHOUSE_URL/);
    expect(problem({ ...deployed, ENVIRONMENT: "Development", CLICKHOUSE_URL: "http://localhost:8123" })).toMatch(/CLICKHOUSE_URL/);
  });

  it("caps crashes at 60 per issue and 1,000 per app a minute unless told otherwise, 0 meaning no cap", () => {
    expect(config({ ...deployed }).crashCaps).toEqual({ perIssue: 60, perApp: 1000 });
    expect(config({ ...deployed, CRASH_ISSUE_CAP_PER_MINUTE: "0", CRASH_APP_CAP_PER_MINUTE: "5000" }).crashCaps).toEqual({ perIssue: 0, perApp: 5000 });
    expect(problem({ ...deployed, CRASH_ISSUE_CAP_PER_MINUTE: "-1" })).toMatch(/CRASH_ISSUE_CAP_PER_MINUTE/);
    expect(problem({ ...deployed, CRASH_APP_CAP_PER_MINUTE: "ten" })).toMatch(/CRASH_APP_CAP_PER_MINUTE/);
  });
});
