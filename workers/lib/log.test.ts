import { afterEach, describe, expect, it, vi } from "vitest";
import { errorText, log, logLine } from "./log";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("operational log lines", () => {
  it("writes one line of JSON per call, level and event first, with the fields as given and unset ones left out", () => {
    const info = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    log.info("sink.batch", { queue: "telemetry-events", apps: ["app_a"], stored: 12, error: undefined });
    log.error("batcher.flush_failed", { app: "app_a", shard: 0, error: errorText(new Error("Queue send failed:\nno capacity")) });
    expect(info.mock.calls).toEqual([['{"level":"info","event":"sink.batch","queue":"telemetry-events","apps":["app_a"],"stored":12}']]);
    const [line] = error.mock.calls[0] ?? [];
    expect(typeof line === "string" && !line.includes("\n")).toBe(true);
    expect(JSON.parse(String(line))).toEqual({ level: "error", event: "batcher.flush_failed", app: "app_a", shard: 0, error: "Queue send failed:\nno capacity" });
  });

  it("names what was thrown, whatever it was", () => {
    expect(errorText(new TypeError("Network connection lost."))).toBe("Network connection lost.");
    expect(errorText("gone")).toBe("gone");
    expect(errorText({ code: 241 })).toBe('{"code":241}');
    expect(JSON.parse(logLine("warn", "x", { counts: { inserted: 3 } }))).toEqual({ level: "warn", event: "x", counts: { inserted: 3 } });
  });
});
