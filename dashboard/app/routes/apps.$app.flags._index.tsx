import { json, type LinksFunction, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { useEffect, useState } from "react";
import { csrfForm } from "../auth/csrf.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { utcMinute } from "../components/format";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { envOf, field, intentOf } from "../context.server";
import { requireAppFlags } from "../db/flags.server";
import { flagInWords } from "../flags/describe";
import { EMPTY_NEW_FLAG, newFlag, versionOf, type NewFlagValues } from "../flags/forms";
import flagStyles from "../flags/flags.css?url";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: flagStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Feature flags` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app, flags } = await requireAppFlags(request, env, params.app, "data:read");
  const stored = await flags.list();
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    flags: stored.map((s) => ({
      key: s.flag.key,
      name: s.flag.name,
      enabled: s.flag.enabled,
      summary: flagInWords(s.flag),
      version: s.version,
      updatedAt: s.updatedAt,
      updatedBy: s.updatedBy,
    })),
    canEdit: can(viewer.role, "flag:update"),
  });
}

/** What each form's `intent` needs. */
export const FLAG_LIST_INTENTS = { create: "flag:update", toggle: "flag:update" } as const;

export type FlagListResult = { ok: string; key?: string } | { error: string; errors?: string[]; values?: NewFlagValues };

const readNew = (form: FormData): NewFlagValues => ({
  key: field(form, "key"),
  name: field(form, "name"),
  kind: field(form, "kind") === "multivariate" ? "multivariate" : "boolean",
  variants: field(form, "variants"),
});

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, FLAG_LIST_INTENTS);
  const { viewer, flags } = await requireAppFlags(request, env, params.app, FLAG_LIST_INTENTS[intent]);
  const reply = (body: FlagListResult, status = 200) => json(body, { status });
  switch (intent) {
    case "create": {
      const values = readNew(form);
      const made = newFlag(values);
      if ("errors" in made) return reply({ error: "The flag was not created.", errors: made.errors, values }, 400);
      // Version 0 is "no such flag yet": an existing key is a conflict, never replaced.
      const saved = await flags.save(made.flag, { by: viewer.email, expected: 0 });
      if (saved.status === "invalid") return reply({ error: "The flag was not created.", errors: saved.errors, values }, 400);
      if (saved.status !== "saved") return reply({ error: `A flag with the key “${values.key}” exists already: open it to change it.`, values }, 409);
      return reply({ ok: `Flag “${values.name}” created, served to devices within seconds. Open it to add rules.`, key: values.key });
    }
    case "toggle": {
      const key = field(form, "key");
      const current = await flags.get(key);
      if (!current) throw new Response("No such flag in this app", { status: 404 });
      const enabled = field(form, "enabled") === "true";
      const version = versionOf(field(form, "version"));
      if (version === null) return reply({ error: "The form lost the version it was loaded at: reload the page." }, 400);
      const saved = await flags.save({ ...current.flag, enabled }, { by: viewer.email, expected: version });
      if (saved.status === "conflict") return reply({ error: `Someone changed “${key}” since this page was loaded (it is now version ${saved.version}); nothing was switched. Look at it again and retry.` }, 409);
      if (saved.status !== "saved") return reply({ error: `“${key}” was not switched.` }, 400);
      return reply({ ok: enabled ? `“${key}” switched on: its rules apply again.` : `“${key}” switched off: everyone gets “${current.flag.offVariant}”.` });
    }
  }
}

function NewFlagForm({ values, result }: { values: NewFlagValues; result: FlagListResult | undefined }) {
  const [kind, setKind] = useState(values.kind);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const errors = result && "error" in result ? [result.error, ...(result.errors ?? [])] : [];
  return (
    <Form method="post" aria-label="Create flag" className="flag-new">
      <CsrfField />
      <input type="hidden" name="intent" value="create" />
      <div className="inline-form">
        <label>
          Key
          <input name="key" defaultValue={values.key} required maxLength={64} pattern="[a-z0-9][a-z0-9_.\-]*" placeholder="new-checkout" title="lowercase letters, digits, ., - or _" />
        </label>
        <label>
          Name
          <input name="name" defaultValue={values.name} required maxLength={100} placeholder="New checkout" />
        </label>
        <label>
          Kind
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value === "multivariate" ? "multivariate" : "boolean")}>
            <option value="boolean">on / off</option>
            <option value="multivariate">multivariate</option>
          </select>
        </label>
      </div>
      {/* Without JavaScript the variants stay shown: the kind chosen decides whether they are used. */}
      <label style={hydrated && kind !== "multivariate" ? { display: "none" } : undefined}>
        Variants of a multivariate flag, one a line: key = JSON value (the first is served to everyone until you add rules)
        <textarea name="variants" defaultValue={values.variants} rows={4} className="code" />
      </label>
      {errors.length > 0 ? (
        <ul className="error problems" role="alert">
          {errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : null}
      <button type="submit">Create flag</button>
    </Form>
  );
}

const stateBadge = (enabled: boolean) => <span className={`badge ${enabled ? "state-delivered" : "state-off"}`}>{enabled ? "on" : "off"}</span>;

export default function FlagsPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { app, flags, canEdit } = data;
  const created = result && "ok" in result;
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>Feature flags</h1>
        <Link to={`/apps/${app.id}/config`}>Remote config</Link>
      </div>
      {result && ("ok" in result || !result.values) ? <ActionNotice result={result} /> : null}
      {flags.length === 0 ? (
        <div className="card empty-state">
          <h2>No flags yet</h2>
          <p>
            A flag decides what each device gets: on or off, or one of several variants, by rules on the platform, app version, country or the user's traits, rolled out to
            a share of users. Devices read it with <code>t.isEnabled("key")</code> or <code>t.getVariant("key")</code>; a change reaches them within seconds.
          </p>
        </div>
      ) : (
        <section className="card">
          <h2>
            Flags <span className="muted small">{flags.length}</span>
          </h2>
          <table className="flags">
            <thead>
              <tr>
                <th>Flag</th>
                <th>Serves</th>
                <th>On</th>
                <th className="num">Version</th>
                <th>Changed (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {flags.map((f) => (
                <tr key={f.key} data-key={f.key}>
                  <td>
                    <Link to={f.key}>{f.name}</Link>
                    <div className="muted small">
                      <code>{f.key}</code>
                    </div>
                  </td>
                  <td className="flag-summary">{f.summary}</td>
                  <td className="nowrap">
                    {canEdit ? (
                      <IntentForm
                        intent="toggle"
                        label={f.enabled ? "Switch off" : "Switch on"}
                        title={`${f.enabled ? "Switch off" : "Switch on"} ${f.key}`}
                        confirm={f.enabled ? `Switch off “${f.key}”? Everyone gets its off variant until it is switched on again.` : undefined}
                        danger={f.enabled}
                      >
                        {stateBadge(f.enabled)}
                        <input type="hidden" name="key" value={f.key} />
                        <input type="hidden" name="version" value={f.version} />
                        <input type="hidden" name="enabled" value={f.enabled ? "false" : "true"} />
                      </IntentForm>
                    ) : (
                      stateBadge(f.enabled)
                    )}
                  </td>
                  <td className="num">{f.version}</td>
                  <td className="nowrap">
                    {utcMinute(f.updatedAt)} <span className="muted small">{f.updatedBy}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {canEdit ? (
        <section className="card">
          <h2>New flag</h2>
          {/* A new key once a flag is created empties the form for the next one. */}
          <NewFlagForm key={created ? `made-${flags.length}` : "new"} values={result && "values" in result && result.values ? result.values : EMPTY_NEW_FLAG} result={result} />
        </section>
      ) : (
        <p className="muted">Your role can see the flags but not change them.</p>
      )}
    </Shell>
  );
}
