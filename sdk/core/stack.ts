import type { StackFrame } from "../../schemas";
import type { CrashInfo } from "./types";

// V8 (`    at fn (file:1:2)`, `    at file:1:2`) and SpiderMonkey/JavaScriptCore (`fn@file:1:2`).
const V8 = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;
const GECKO = /^\s*(.*?)@(.+?):(\d+):(\d+)$/;

/** Whether a file is the app's own rather than the platform's or a dependency's: `defaultInApp("node:internal/timers") === false`. */
export function defaultInApp(file: string): boolean {
  return !/node_modules|^node:|^internal\/|^native$|<anonymous>/.test(file);
}

/**
 * Parses an `Error.stack` into frames, innermost first, at most 128:
 * `parseStack("at render (app.js:10:3)") // [{function: "render", file: "app.js", line: 10, column: 3, inApp: true}]`
 */
export function parseStack(stack: string, inApp: (file: string) => boolean = defaultInApp): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split("\n")) {
    const m = V8.exec(line) ?? GECKO.exec(line);
    const file = m?.[2];
    if (!m || !file) continue;
    const frame: StackFrame = { file, line: Number(m[3]), column: Number(m[4]), inApp: inApp(file) };
    if (m[1]) frame.function = m[1];
    if (frames.push(frame) === 128) break;
  }
  return frames;
}

/**
 * The `error` of a crash event from anything thrown, `Error` or not:
 * `crashInfo(new TypeError("x"), {fatal: false, handled: false}).type === "TypeError"`.
 */
export function crashInfo(thrown: unknown, how: { fatal: boolean; handled: boolean }, inApp?: (file: string) => boolean): CrashInfo {
  const e = thrown !== null && typeof thrown === "object" ? (thrown as { name?: unknown; message?: unknown; stack?: unknown }) : {};
  const stack = typeof e.stack === "string" ? e.stack.slice(0, 16384) : "";
  const info: CrashInfo = {
    type: (typeof e.name === "string" && e.name) || "Error",
    message: (typeof e.message === "string" ? e.message : String(thrown)).slice(0, 8192),
    fatal: how.fatal,
    handled: how.handled,
    frames: parseStack(stack, inApp),
  };
  if (stack) info.stack = stack;
  return info;
}
