import { json, type LinksFunction, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { csrfForm } from "../auth/csrf.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { FlagEditor } from "../components/flag-editor";
import { utcMinute } from "../components/format";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { VersionHistory } from "../components/version-history";
import { envOf, field, intentOf } from "../context.server";
import { requireAppFlags } from "../db/flags.server";
import { flagInWords, reasonInWords } from "../flags/describe";
import { jsonDiff } from "../flags/diff";
import { toDraft } from "../flags/draft";
import { EMPTY_TEST_USER, parseJson, subjectOf, versionOf, type TestUserValues } from "../flags/forms";
import { evaluateFlag } from "../../../workers/flags/evaluate";
import flagStyles from "../flags/flags.css?url";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: flagStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · ${data?.flag.name ?? "Flag"}` }];

const noFlag = () => new Response("No such flag in this app", { status: 404 });


export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app, flags } = await requireAppFlags(request, env, params.app, "data:read");
  const key = (params.key ?? "").slice(0, 64);
  const [stored, history] = await Promise.all([flags.get(key), flags.history(key)]);
  if (!stored) throw noFlag();
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    flag: stored.flag,
    summary: flagInWords(stored.flag),
    version: stored.version,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
    history: history.map((h) => ({
      version: h.version,
      at: h.at,
      by: h.by,
      ...(h.before === null ? { what: "created" } : h.after === null ? { what: "deleted" } : {}),
      diff: jsonDiff(h.before, h.after),
      current: h.version === stored.version,
      restorable: h.after !== null,
    })),
    draft: toDraft(stored.flag),
    canEdit: can(viewer.role, "flag:update"),
  });
}

/** What each form's `intent` needs: trying a user out changes nothing, so readers may. */
export const FLAG_INTENTS = { save: "flag:update", rollback: "flag:update", delete: "flag:update", test: "data:read" } as const;

export type FlagResult =
  | { ok: string }
  | { error: string; problems?: string[]; posted?: string }
  | { test: TestUserValues; answer: { variant: string; value: string; reason: string } }
  | { test: TestUserValues; error: string };

const readTest = (form: FormData): TestUserValues => ({
  userId: field(form, "userId"),
  anonymousId: field(form, "anonymousId"),
  platform: field(form, "platform"),
  appVersion: field(form, "appVersion"),
  country: field(form, "country"),
  traits: field(form, "traits"),
});

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, FLAG_INTENTS);
  const { viewer, app, flags } = await requireAppFlags(request, env, params.app, FLAG_INTENTS[intent]);
  const key = (params.key ?? "").slice(0, 64);
  const by = { by: viewer.email };
  const reply = (body: FlagResult, status = 200) => json(body, { status });
  const conflict = (now: number) =>
    reply({ error: `Someone else changed this flag since you opened it (it is now version ${now}): nothing was saved. Reload the page to see their change, then make yours again.` }, 409);
  switch (intent) {
    case "save": {
      const version = versionOf(field(form, "version"));
      const posted = field(form, "flag");
      const parsed = parseJson(posted, "The definition");
      if (version === null || !parsed.ok) return reply({ error: parsed.ok ? "The form lost the version it was loaded at: reload the page." : parsed.error, posted }, 400);
      if (!(await flags.get(key))) throw noFlag();
      // The key is the page's: a definition naming another would make a second flag.
      const body = parsed.value !== null && typeof parsed.value === "object" && !Array.isArray(parsed.value) ? { ...parsed.value, key } : parsed.value;
      const saved = await flags.save(body, { ...by, expected: version });
      if (saved.status === "invalid") return reply({ error: "Nothing was saved: fix what is marked below.", problems: saved.errors, posted }, 400);
      if (saved.status === "conflict") return conflict(saved.version);
      if (saved.status === "missing") throw noFlag();
      return reply({ ok: `Saved as version ${saved.version}. Devices get it within seconds.` });
    }
    case "rollback": {
      const version = versionOf(field(form, "to"));
      if (version === null) return reply({ error: "Choose a version to restore." }, 400);
      const saved = await flags.rollback(key, version, by);
      if (saved.status === "missing") return reply({ error: `There is no version ${version} of this flag to restore.` }, 404);
      if (saved.status === "conflict") return conflict(saved.version);
      return reply({ ok: `Version ${version} restored as version ${saved.version}.` });
    }
    case "delete": {
      const removed = await flags.remove(key, by);
      if (removed.status === "missing") throw noFlag();
      return redirect(`/apps/${encodeURIComponent(app.id)}/flags`);
    }
    case "test": {
      const test = readTest(form);
      const stored = await flags.get(key);
      if (!stored) throw noFlag();
      const subject = subjectOf(test);
      if ("error" in subject) return reply({ test, error: subject.error }, 400);
      const a = evaluateFlag(stored.flag, subject.subject);
      return reply({ test, answer: { variant: a.variant, value: JSON.stringify(a.value), reason: reasonInWords(stored.flag, a.reason) } });
    }
  }
}

function TestUser({ result }: { result: FlagResult | undefined }) {
  const values = result && "test" in result ? result.test : EMPTY_TEST_USER;
  const input = (name: keyof TestUserValues, label: string, placeholder: string) => (
    <label>
      {label}
      <input name={name} defaultValue={values[name]} placeholder={placeholder} />
    </label>
  );
  return (
    <Form method="post" aria-label="Test a user" className="flag-test">
      <CsrfField />
      <input type="hidden" name="intent" value="test" />
      <div className="inline-form">
        {input("userId", "User id", "user-42")}
        {input("anonymousId", "or anonymous id", "anon-…")}
        {input("platform", "Platform", "ios")}
        {input("appVersion", "App version", "2.4.1")}
        {input("country", "Country", "DE")}
      </div>
      <label>
        Traits (JSON)
        <textarea name="traits" defaultValue={values.traits} rows={2} className="code" placeholder='{"plan": "pro", "age": 31}' />
      </label>
      <button type="submit">Test</button>
      {result && "test" in result ? (
        "answer" in result ? (
          <p className="flag-answer" role="status">
            Serves <strong className="badge">{result.answer.variant}</strong> <code>{result.answer.value}</code>, because {result.answer.reason}.
          </p>
        ) : (
          <p className="error" role="alert">
            {result.error}
          </p>
        )
      ) : null}
    </Form>
  );
}

export default function FlagPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { app, flag, canEdit } = data;
  const editorResult = result && !("test" in result) ? result : undefined;
  const problems = editorResult && "problems" in editorResult ? (editorResult.problems ?? []) : [];
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>
          {flag.name} <code className="small">{flag.key}</code> <span className={`badge ${flag.enabled ? "state-delivered" : "state-off"}`}>{flag.enabled ? "on" : "off"}</span>
        </h1>
        <Link to={`/apps/${app.id}/flags`}>All flags</Link>
      </div>
      <ActionNotice result={editorResult} />
      <section className="card">
        <p className="flag-summary-line">{data.summary}</p>
        <p className="muted small">
          Version {data.version}, changed {utcMinute(data.updatedAt)} UTC by {data.updatedBy}. Devices read it with <code>{`t.isEnabled("${flag.key}")`}</code> or{" "}
          <code>{`t.getVariant("${flag.key}")`}</code>.
        </p>
      </section>
      {canEdit ? (
        <section className="card">
          <h2>Edit</h2>
          {/* A new version (saved, restored) opens the editor afresh; a refused save keeps what was typed. */}
          <FlagEditor key={data.version} draft={data.draft} version={data.version} problems={problems} posted={editorResult && "posted" in editorResult ? editorResult.posted : undefined} />
        </section>
      ) : (
        <section className="card">
          <h2>Definition</h2>
          <pre>{JSON.stringify(flag, null, 2)}</pre>
          <p className="muted">Your role can see this flag but not change it.</p>
        </section>
      )}
      <section className="card">
        <h2>Test a user</h2>
        <p className="muted small">What the saved flag serves a device described like this, and why: the same evaluation the edge runs.</p>
        <TestUser result={result} />
      </section>
      <section className="card">
        <h2>History</h2>
        <VersionHistory rows={data.history} what="flag" restoreLabel="Restore this version" canRestore={canEdit} />
      </section>
      {canEdit ? (
        <section className="card danger-zone">
          <h2>Delete</h2>
          <p className="muted small">Devices stop getting the flag within seconds (their code's fallback applies). Its history stays, and a flag made again with this key goes on from it.</p>
          <IntentForm intent="delete" label="Delete flag" confirm={`Delete the flag “${flag.key}”? Devices stop getting it within seconds.`} danger />
        </section>
      ) : null}
    </Shell>
  );
}
