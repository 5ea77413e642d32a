import type { Core } from "../../core/client";
import type { Win } from "./dom";

interface ErrorEventLike {
  error?: unknown;
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
}

/**
 * Records uncaught errors and unhandled promise rejections as crash events (`handled: false`;
 * not fatal: the page lives on). `captureErrors(client, window)`
 */
export function captureErrors(c: Core, w: Win): void {
  const report = (error: unknown): void => {
    if (c.allows("errors")) c.captureError(error, { fatal: false, handled: false });
  };
  w.addEventListener("error", (e: ErrorEventLike) =>
    // Cross-origin scripts give only "Script error." and no error object.
    report(e.error ?? { name: "Error", message: e.message ?? "Script error.", stack: `at ${e.filename ?? ""}:${e.lineno ?? 0}:${e.colno ?? 0}` }),
  );
  w.addEventListener("unhandledrejection", (e: { reason?: unknown }) => report(e.reason));
}
