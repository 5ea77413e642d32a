import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { MAX_URL_TEMPLATES } from "../../../schemas";
import { templatePath } from "../../../workers/ingest/url-template";
import { csrfForm } from "../auth/csrf.server";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { Shell } from "../components/shell";
import { envOf, intentOf } from "../context.server";
import { getUrlTemplates, parseUrlTemplateLines, setUrlTemplates } from "../db/apps.server";
import { pathOf } from "../queries/network-filters";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · URL templates` }];

/**
 * Which of the app's templates gives the path its template, if one does: each is tried before a
 * catch-all `/**`, so it matched when the answer is not the catch-all's.
 */
function matchingTemplate(path: string, templates: readonly string[]): string | null {
  return templates.find((t) => t === "/**" || templatePath(path, [t, "/**"]) !== "/**") ?? null;
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const templates = (await getUrlTemplates(env.db, viewer.orgId, app.id)) ?? [];
  const input = (new URL(request.url).searchParams.get("preview") ?? "").slice(0, 2048);
  const path = input.trim() === "" ? null : pathOf(input);
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    templates,
    canEdit: can(viewer.role, "app:update"),
    max: MAX_URL_TEMPLATES,
    preview: path === null ? null : { input, path, template: templatePath(path, templates), matched: matchingTemplate(path, templates) },
  });
}

export const TEMPLATE_INTENTS = { save: "app:update" } as const;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, TEMPLATE_INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, TEMPLATE_INTENTS[intent]);
  const raw = form.get("templates");
  const text = typeof raw === "string" ? raw : "";
  const parsed = parseUrlTemplateLines(text);
  if ("error" in parsed) return json({ error: parsed.error, text }, { status: 400 });
  if (!(await setUrlTemplates(env.db, viewer.orgId, app.id, parsed.templates))) throw new Response("No such app in your organisation", { status: 404 });
  const n = parsed.templates.length;
  return json({
    ok: `${n === 0 ? "No URL templates now" : `${n} URL template${n === 1 ? "" : "s"} saved`}. The edge applies ${n === 0 ? "this" : "them"} to calls received after the change (within a minute); stored calls keep their templates.`,
  });
}

/** The examples the page shows: a template, a path, and what the edge makes of it under that template. */
export const TEMPLATE_EXAMPLES: ReadonlyArray<[string, string, string]> = [
  ["/api/orgs/:org/projects/:project", "/api/orgs/acme/projects/web-app", "/api/orgs/:org/projects/:project"],
  ["/api/v1/reports/*", "/api/v1/reports/2024", "/api/v1/reports/2024"],
  ["/static/**", "/static/js/main.3f9a2b1c.js", "/static/**"],
  ["/users/:user/avatar", "/users/jane/avatar", "/users/:user/avatar"],
];

export default function UrlTemplatesPage() {
  const { viewer, app, templates, canEdit, max, preview } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  // After a refused save the form keeps what was typed, so it can be fixed rather than retyped.
  const draft = result && "text" in result ? result.text : templates.join("\n");
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>URL templates</h1>
        <Link to={`/apps/${app.id}/network`}>Back to network</Link>
      </div>
      <p>
        Network calls are grouped by method, host and the path&apos;s template. The edge makes templates by itself: numbers, UUIDs, hashes, dates and random tokens in a path
        become <code>:id</code>, <code>:uuid</code>, <code>:hash</code>, <code>:date</code> and <code>:token</code>. Templates of your own come first, for the segments it
        cannot tell apart, such as names and slugs, or a number that should stay. The same templates group page paths in the performance views, and they apply to
        the path as stored, after the app&apos;s redaction rules.
      </p>
      <section className="card network-template-help" aria-label="Template syntax">
        <h2>How a template reads</h2>
        <ul>
          <li>
            A template is a path: <code>/</code> then segments. A plain segment matches itself only.
          </li>
          <li>
            <code>:name</code> matches any one segment and shows as <code>:name</code>.
          </li>
          <li>
            <code>*</code> matches any one segment and keeps it as sent, so it is not collapsed to a placeholder.
          </li>
          <li>
            A final <code>**</code> matches the rest of the path, however long, and shows as <code>**</code>.
          </li>
          <li>The edge tries the templates in order and the first that matches decides; a path none matches gets the automatic template.</li>
        </ul>
        <table>
          <thead>
            <tr>
              <th>template</th>
              <th>a call to</th>
              <th>is grouped as</th>
            </tr>
          </thead>
          <tbody>
            {TEMPLATE_EXAMPLES.map(([t, path, out]) => (
              <tr key={t}>
                <td>
                  <code>{t}</code>
                </td>
                <td>
                  <code>{path}</code>
                </td>
                <td>
                  <code>{out}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <p className="card notice">
        Templates apply to calls received after the change: the edge picks it up within a minute. Calls already stored keep the template they were grouped under.
      </p>
      <ActionNotice result={result && "error" in result ? { error: result.error } : result} />
      <section className="card" aria-label="Templates">
        <h2>
          This app&apos;s templates <span className="muted small">{`${templates.length} of at most ${max}`}</span>
        </h2>
        {canEdit ? (
          // A new key after each save shows what was stored, in its order.
          <Form key={templates.join("\n")} method="post" className="network-templates-form" aria-label="Edit URL templates">
            <CsrfField />
            <input type="hidden" name="intent" value="save" />
            <label>
              One template a line, in the order they are tried (blank lines are skipped)
              <textarea name="templates" rows={Math.min(20, Math.max(6, templates.length + 2))} defaultValue={draft} spellCheck={false} placeholder="/api/orgs/:org/projects/:project" />
            </label>
            <button type="submit" disabled={busy}>
              Save templates
            </button>
          </Form>
        ) : templates.length === 0 ? (
          <p className="muted">No templates: every path gets the automatic template.</p>
        ) : (
          <ol className="network-templates-list">
            {templates.map((t) => (
              <li key={t}>
                <code>{t}</code>
              </li>
            ))}
          </ol>
        )}
        {canEdit ? null : <p className="muted">Your role can see the templates but not change them.</p>}
      </section>
      <section className="card" aria-label="Preview">
        <h2>Try a URL</h2>
        <Form method="get" className="inline-form" aria-label="Preview a URL">
          <label>
            URL or path
            <input name="preview" defaultValue={preview?.input ?? ""} key={preview?.input ?? ""} maxLength={2048} placeholder="https://api.example.com/orders/1234?page=2" className="wide" />
          </label>
          <button type="submit">Show its template</button>
        </Form>
        {preview ? (
          <dl className="facts network-preview" aria-label="Template of the URL">
            <dt>path</dt>
            <dd>
              <code>{preview.path || "(none)"}</code>
            </dd>
            <dt>grouped as</dt>
            <dd>
              <code data-template>{preview.template}</code>
            </dd>
            <dt>by</dt>
            <dd>{preview.matched ? <>your template <code>{preview.matched}</code></> : "the automatic template (no template of yours matches)"}</dd>
          </dl>
        ) : (
          <p className="muted small">The preview uses the saved templates, as the edge will.</p>
        )}
      </section>
    </Shell>
  );
}
