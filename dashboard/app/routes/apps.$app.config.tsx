import { json, type LinksFunction, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { csrfForm } from "../auth/csrf.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { Shell } from "../components/shell";
import { VersionHistory } from "../components/version-history";
import { envOf, field, intentOf } from "../context.server";
import { requireAppFlags } from "../db/flags.server";
import { jsonDiff } from "../flags/diff";
import { parseJson, versionOf } from "../flags/forms";
import flagStyles from "../flags/flags.css?url";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: flagStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Remote config` }];

const SHOWN_VERSIONS = 50;


export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app, flags } = await requireAppFlags(request, env, params.app, "data:read");
  const [current, versions] = await Promise.all([flags.config(), flags.configHistory(SHOWN_VERSIONS + 1)]);
  const pair = (v: (typeof versions)[number] | undefined) => (v ? { config: v.config, schema: v.schema } : null);
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    version: current.version,
    config: JSON.stringify(current.config, null, 2),
    schema: current.schema ? JSON.stringify(current.schema, null, 2) : "",
    firstKey: Object.keys(current.config)[0] ?? "checkout",
    // Each version against the one before it; the oldest shown against the one before that, read for it.
    versions: versions.slice(0, SHOWN_VERSIONS).map((v, i) => ({
      version: v.version,
      at: v.at,
      by: v.by,
      note: v.note,
      diff: jsonDiff(pair(versions[i + 1]), pair(v)),
      current: v.version === current.version,
      restorable: true,
    })),
    canEdit: can(viewer.role, "flag:update"),
  });
}

/** What each form's `intent` needs. */
export const CONFIG_INTENTS = { save: "flag:update", rollback: "flag:update" } as const;

export type ConfigResult = { ok: string } | { error: string; errors?: string[]; values?: { config: string; schema: string; note: string } };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, CONFIG_INTENTS);
  const { viewer, flags } = await requireAppFlags(request, env, params.app, CONFIG_INTENTS[intent]);
  const reply = (body: ConfigResult, status = 200) => json(body, { status });
  const conflict = (now: number) =>
    reply({ error: `Someone else saved the configuration since you opened it (it is now version ${now}): nothing was saved. Reload the page to see their change, then make yours again.` }, 409);
  switch (intent) {
    case "save": {
      const values = { config: String(form.get("config") ?? ""), schema: String(form.get("schema") ?? ""), note: field(form, "note") };
      const refused = (errors: string[]) => reply({ error: "Nothing was saved.", errors, values }, 400);
      const config = parseJson(values.config, "The configuration");
      const schema = parseJson(values.schema, "The schema", null);
      if (!config.ok || !schema.ok) return refused([config, schema].flatMap((p) => (p.ok ? [] : [p.error])));
      const expected = versionOf(field(form, "version"));
      if (expected === null) return refused(["The form lost the version it was loaded at: reload the page."]);
      const saved = await flags.saveConfig({ config: config.value, schema: schema.value }, { by: viewer.email, expected, note: values.note });
      if (saved.status === "invalid") return refused(saved.errors);
      if (saved.status === "conflict") return conflict(saved.version);
      if (saved.status === "missing") return refused(["The app is gone."]);
      return reply({ ok: `Saved as version ${saved.version}. Devices get it within seconds.` });
    }
    case "rollback": {
      const to = versionOf(field(form, "to"));
      if (to === null) return reply({ error: "Choose a version to restore." }, 400);
      const saved = await flags.rollbackConfig(to, { by: viewer.email });
      if (saved.status === "missing") return reply({ error: `There is no version ${to} to restore.` }, 404);
      if (saved.status === "invalid") return reply({ error: `Version ${to} no longer passes its schema: ${saved.errors.join("; ")}` }, 400);
      if (saved.status === "conflict") return conflict(saved.version);
      return reply({ ok: `Version ${to} restored as version ${saved.version}.` });
    }
  }
}

export default function ConfigPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { app, canEdit } = data;
  const values = result && "values" in result && result.values ? result.values : { config: data.config, schema: data.schema, note: "" };
  const errors = result && "error" in result && result.errors ? result.errors : [];
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>Remote config</h1>
        <Link to={`/apps/${app.id}/flags`}>Feature flags</Link>
      </div>
      <ActionNotice result={result && "error" in result && errors.length > 0 ? undefined : result} />
      <section className="card">
        <p>
          One JSON object every device of this app downloads at start and reads with <code>{`t.getConfig("${data.firstKey}")`}</code> (or <code>t.getConfig()</code> for all of
          it). An optional JSON Schema is checked on every save, so a typo never reaches devices. A saved change is served within seconds.
        </p>
      </section>
      {canEdit ? (
        <section className="card">
          <h2>
            Configuration <span className="muted small">version {data.version}</span>
          </h2>
          {/* A new version resets the fields to what was saved; a refused save keeps what was typed. */}
          <Form method="post" aria-label="Save configuration" className="config-form" key={data.version}>
            <CsrfField />
            <input type="hidden" name="intent" value="save" />
            <input type="hidden" name="version" value={data.version} />
            <div className="grid two">
              <label>
                Configuration (JSON object)
                <textarea name="config" defaultValue={values.config} rows={14} className="code" spellCheck={false} />
              </label>
              <label>
                JSON Schema (optional; empty for none)
                <textarea name="schema" defaultValue={values.schema} rows={14} className="code" spellCheck={false} placeholder='{"type": "object", "required": ["checkout"]}' />
              </label>
            </div>
            <label>
              Note
              <input name="note" defaultValue={values.note} maxLength={500} placeholder="what this change is for" className="wide" />
            </label>
            {errors.length > 0 ? (
              <div className="error" role="alert">
                <p>{result && "error" in result ? result.error : ""}</p>
                <ul className="problems">
                  {errors.map((e) => (
                    <li key={e}>{e}</li>
                  ))}
                </ul>
              </div>
            ) : null}
            <button type="submit">Save</button>
          </Form>
        </section>
      ) : (
        <div className="grid two">
          <section className="card">
            <h2>
              Configuration <span className="muted small">version {data.version}</span>
            </h2>
            <pre>{data.config}</pre>
          </section>
          <section className="card">
            <h2>JSON Schema</h2>
            {data.schema ? <pre>{data.schema}</pre> : <p className="muted">None.</p>}
            <p className="muted">Your role can see the configuration but not change it.</p>
          </section>
        </div>
      )}
      <section className="card">
        <h2>Versions</h2>
        {data.versions.length === 0 ? (
          <p className="muted">Nothing saved yet: devices get an empty configuration.</p>
        ) : (
          <VersionHistory rows={data.versions} what="configuration" restoreLabel="Restore" canRestore={canEdit} notes />
        )}
      </section>
    </Shell>
  );
}
