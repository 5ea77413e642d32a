// An app's flags and configuration for whoever manages them (the admin API, the dashboard):
// the store's functions behind the check that the app is in the caller's scope, and with
// definitions checked before they are saved. One place, so no door can skip either.
import { z } from "zod";
import { Flag } from "../../schemas";
import { appOrgId, type AppScope } from "../apps/store";
import * as store from "./store";

export type { ConfigSaved, ConfigVersion, FlagChange, Saved, StoredFlag } from "./store";

/** A save refused before it reached the store: what is wrong, one line per problem. */
export type Invalid = { status: "invalid"; errors: string[] };

function problems(error: z.ZodError): string[] {
  return error.issues.slice(0, 20).map((i) => (i.path.length > 0 ? `${i.path.map(String).join(".")}: ${i.message}` : i.message));
}

/** Who is changing, for the audit log: an e-mail address, or "admin" for the static admin token. */
export interface Actor {
  by: string;
  now?: number;
}

const change = (a: Actor): store.Change => ({ by: a.by, now: a.now ?? Date.now() });

/** The flags and configuration of one app the scope may manage, or null when it has no such app. */
export async function appFlagsFor(db: D1Database, scope: AppScope, appId: string) {
  if ((await appOrgId(db, scope, appId)) === undefined) return null;
  return {
    list: () => store.listFlags(db, appId),
    get: (key: string) => store.getFlag(db, appId, key),
    /** Creates or replaces a flag; `expected` (the version it was read at) refuses to overwrite someone else's change. */
    save: async (input: unknown, actor: Actor & { expected?: number }): Promise<store.Saved | Invalid> => {
      const parsed = Flag.safeParse(input);
      if (!parsed.success) return { status: "invalid", errors: problems(parsed.error) };
      return store.saveFlag(db, appId, parsed.data, { ...change(actor), expected: actor.expected });
    },
    remove: (key: string, actor: Actor) => store.deleteFlag(db, appId, key, change(actor)),
    history: (key: string, limit?: number) => store.flagHistory(db, appId, key, limit),
    rollback: (key: string, version: number, actor: Actor) => store.rollbackFlag(db, appId, key, version, change(actor)),
    config: () => store.getConfig(db, appId),
    saveConfig: (input: { config: unknown; schema?: unknown }, actor: Actor & { expected?: number; note?: string }) =>
      store.saveConfig(db, appId, input, { ...change(actor), expected: actor.expected, note: actor.note }),
    configHistory: (limit?: number) => store.configHistory(db, appId, limit),
    rollbackConfig: (version: number, actor: Actor) => store.rollbackConfig(db, appId, version, change(actor)),
  };
}

export type AppFlagsAdmin = NonNullable<Awaited<ReturnType<typeof appFlagsFor>>>;
