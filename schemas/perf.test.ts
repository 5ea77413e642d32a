import { describe, expect, it } from "vitest";
import { bandOf, networkOutcome, perfKindOf } from "./perf";
import { UrlTemplates } from "./url-templates";

describe("web vital bands", () => {
  it("puts a value on a threshold in the better band, as web.dev defines them", () => {
    expect(bandOf("LCP", 2500)).toBe("good");
    expect(bandOf("LCP", 2501)).toBe("needs_improvement");
    expect(bandOf("LCP", 4000)).toBe("needs_improvement");
    expect(bandOf("LCP", 4001)).toBe("poor");
    expect(bandOf("INP", 200)).toBe("good");
    expect(bandOf("CLS", 0.1)).toBe("good");
    expect(bandOf("CLS", 0.26)).toBe("poor");
    expect(bandOf("FCP", 1801)).toBe("needs_improvement");
    expect(bandOf("TTFB", 1800)).toBe("needs_improvement");
  });
});

describe("network outcomes", () => {
  it("tells 4xx, 5xx, timeouts and failures apart", () => {
    expect(networkOutcome(200)).toBe("ok");
    expect(networkOutcome(304)).toBe("ok");
    expect(networkOutcome(404)).toBe("client_error");
    expect(networkOutcome(503)).toBe("server_error");
    expect(networkOutcome(0, "The request timed out.")).toBe("timeout");
    expect(networkOutcome(undefined, "ETIMEDOUT")).toBe("timeout");
    expect(networkOutcome(0, "Failed to fetch")).toBe("failed");
    expect(networkOutcome(undefined)).toBe("failed");
  });
});

describe("perf kinds", () => {
  it("classifies vitals, app start, screen load, transactions, spans and the rest", () => {
    expect(perfKindOf("LCP", "")).toBe("vital");
    expect(perfKindOf("app_start_cold", "")).toBe("app_start");
    expect(perfKindOf("screen_load", "")).toBe("screen_load");
    expect(perfKindOf("GET /api", "transaction")).toBe("transaction");
    expect(perfKindOf("db.query", "span")).toBe("span");
    expect(perfKindOf("checkout_render", "")).toBe("custom");
  });
});

describe("URL templates", () => {
  it("accepts paths with :name, * and a final **, and refuses the rest with a reason", () => {
    expect(UrlTemplates.safeParse(["/api/orgs/:org/files/**", "/v2/*/items"]).success).toBe(true);
    expect(UrlTemplates.safeParse(["api/x"]).success).toBe(false);
    expect(UrlTemplates.safeParse(["/a/**/b"]).success).toBe(false);
    expect(UrlTemplates.safeParse(["/a?b=1"]).success).toBe(false);
  });
});
