import type { AppLoadContext } from "@remix-run/cloudflare";
import { dashboardEnv, type DashboardEnv } from "./env.server";

/** The parsed bindings for a loader or action: `const env = envOf(context)`. */
export const envOf = (context: AppLoadContext): DashboardEnv => dashboardEnv(context.cloudflare.env);

/** A form field as a trimmed string ("" when absent or a file). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === "string" ? v.trim() : "";
}

const hasKey = <K extends string>(table: Readonly<Record<K, unknown>>, key: string): key is K => Object.hasOwn(table, key);

/** The form's `intent` when `intents` (intent → permission) has it; otherwise a 400. */
export function intentOf<K extends string>(form: FormData, intents: Readonly<Record<K, unknown>>): K {
  const intent = field(form, "intent");
  if (!hasKey(intents, intent)) throw new Response("Unknown action", { status: 400 });
  return intent;
}
