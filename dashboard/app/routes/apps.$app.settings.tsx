import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useActionData, useLoaderData } from "@remix-run/react";
import { csrfForm } from "../auth/csrf.server";
import { requireApp } from "../auth/guard.server";
import { can, type Permission } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { AppSettingsForms, type RetentionView } from "../components/app-settings";
import { utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { AppSettings, createKey, deleteApp, lastRetentionRun, listKeys, renameApp, retentionCutoff, revokeKey, updateSettings } from "../db/apps.server";
import { readOrError } from "../queries/clickhouse.server";
import { oldestEvent } from "../queries/retention.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Settings` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const may = (p: Permission) => can(viewer.role, p);
  const oldest = await readOrError(() => oldestEvent(env.clickhouse, app.id));
  const retention: RetentionView = {
    cutoff: retentionCutoff(Date.now(), app.retentionDays),
    oldestEvent: oldest.data,
    error: oldest.error,
    lastRun: await lastRetentionRun(env.db, viewer.orgId, app.id),
  };
  return json({
    viewer,
    app,
    retention,
    keys: may("key:read") ? await listKeys(env.db, viewer.orgId, app.id) : null,
    allowed: { update: may("app:update"), delete: may("app:delete"), createKey: may("key:create"), revokeKey: may("key:revoke") },
  });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = {
  rename: "app:update",
  settings: "app:update",
  "create-key": "key:create",
  "revoke-key": "key:revoke",
  delete: "app:delete",
} as const satisfies Record<string, Permission>;

const isIntent = (v: string): v is keyof typeof INTENT_PERMISSIONS => Object.hasOwn(INTENT_PERMISSIONS, v);

export type SettingsResult = { ok: string; newKey?: string } | { error: string };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = field(form, "intent");
  if (!isIntent(intent)) throw new Response("Unknown action", { status: 400 });
  const { viewer, app } = await requireApp(request, env, params.app, INTENT_PERMISSIONS[intent]);
  const reply = (body: SettingsResult, status = 200) => json(body, { status });
  switch (intent) {
    case "rename": {
      const name = field(form, "name");
      if (!name || name.length > 200) return reply({ error: "A name is 1 to 200 characters." }, 400);
      await renameApp(env.db, viewer.orgId, app.id, name);
      return reply({ ok: "Renamed." });
    }
    case "settings": {
      const parsed = AppSettings.safeParse({
        rateLimit: field(form, "rateLimit"),
        shardCount: field(form, "shardCount"),
        autoShards: field(form, "autoShards") === "1",
        retentionDays: field(form, "retentionDays"),
        redactionPolicy: field(form, "redactionPolicy"),
      });
      if (!parsed.success) return reply({ error: parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join(" ") }, 400);
      const saved = await updateSettings(env.db, viewer.orgId, app.id, parsed.data);
      if (saved.status === "missing") return reply({ error: "No such app." }, 404);
      if (saved.status === "shards_locked") {
        return reply({ error: `The shard count changed less than a day ago; it can change again after ${utcMinute(saved.until)} UTC, once no retried event can still be on the old shards. Nothing was saved.` }, 409);
      }
      const change = saved.shardChange;
      return reply({
        ok: change
          ? `Settings saved. Events go to ${change.to} shards instead of ${change.from} from ${utcMinute(change.at)} UTC; for a day after that the count cannot change again.`
          : "Settings saved. The edge applies them within a minute.",
      });
    }
    case "create-key": {
      const created = await createKey(env.db, viewer.orgId, app.id, field(form, "name").slice(0, 200));
      if (!created) return reply({ error: "No such app." }, 404);
      return reply({ ok: "Key created. Copy it now: it is not shown again.", newKey: created.key });
    }
    case "revoke-key": {
      if (!(await revokeKey(env.db, viewer.orgId, app.id, field(form, "keyId")))) return reply({ error: "No such key." }, 404);
      return reply({ ok: "Key revoked. The edge refuses it within a minute." });
    }
    case "delete": {
      if (field(form, "confirm") !== app.id) return reply({ error: `Type ${app.id} to confirm.` }, 400);
      // The id stays taken for good; the Worker stops the app's keys and purges its events.
      await deleteApp(context.cloudflare.env, viewer.orgId, app.id);
      return redirect("/apps");
    }
  }
}

export default function SettingsPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={data.viewer} app={data.app}>
      <h1>Settings &amp; keys</h1>
      <ActionNotice result={result} secret={result && "newKey" in result ? result.newKey : undefined} />
      <AppSettingsForms app={data.app} keys={data.keys} allowed={data.allowed} retention={data.retention} />
    </Shell>
  );
}
