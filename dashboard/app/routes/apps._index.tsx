import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { csrfForm } from "../auth/csrf.server";
import { requirePermission } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { Shell } from "../components/shell";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { LocationField } from "../components/app-settings";
import { envOf, field } from "../context.server";
import { createApp, listApps, NewApp } from "../db/apps.server";

export const meta: MetaFunction = () => [{ title: "Apps · edge-telemetry" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "data:read");
  return json({ viewer, apps: await listApps(env.db, viewer.orgId), canCreate: can(viewer.role, "app:create") });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "app:create");
  const form = await csrfForm(request, env);
  const parsed = NewApp.safeParse({ id: field(form, "id"), name: field(form, "name"), location: field(form, "location") });
  if (!parsed.success) return json({ error: parsed.error.issues.map((i) => i.message).join(" ") }, { status: 400 });
  // One answer whoever holds the id, or held it: ids are never reused and other organisations' stay unnamed.
  if (!(await createApp(env.db, viewer.orgId, parsed.data))) return json({ error: "That id is not available: choose another." }, { status: 409 });
  return redirect(`/apps/${parsed.data.id}/settings`);
}

export default function Apps() {
  const { viewer, apps, canCreate } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={viewer}>
      <h1>Apps</h1>
      {apps.length === 0 ? (
        <div className="card empty-state">
          <h2>No apps yet</h2>
          <p>{canCreate ? "Create your first app below, then a write key to send events with." : "Ask a developer or admin of your organisation to create one."}</p>
        </div>
      ) : (
        <ul className="app-list">
          {apps.map((a) => (
            <li key={a.id} className="card">
              <Link to={`/apps/${a.id}`}>
                <strong>{a.name}</strong> <code>{a.id}</code>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {canCreate ? (
        <Form method="post" className="card inline-form" aria-label="Create an app">
          <h2>Create an app</h2>
          <CsrfField />
          <label>
            Name
            <input name="name" required maxLength={200} placeholder="Shop" />
          </label>
          <label>
            Id
            <input name="id" required pattern="[a-z0-9][a-z0-9_\-]{1,62}" placeholder="app_shop" />
          </label>
          <LocationField />
          <button type="submit">Create app</button>
          <FormError result={result} />
        </Form>
      ) : null}
    </Shell>
  );
}
