import type { AppLoadContext } from "@remix-run/cloudflare";
import { dashboardEnv, type DashboardEnv } from "./env.server";

/** The parsed bindings for a loader or action: `const env = envOf(context)`. */
export const envOf = (context: AppLoadContext): DashboardEnv => dashboardEnv(context.cloudflare.env);

/** A form field as a trimmed string ("" when absent or a file). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === "string" ? v.trim() : "";
}
