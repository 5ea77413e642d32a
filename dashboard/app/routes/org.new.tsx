import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { csrfForm } from "../auth/csrf.server";
import { currentOrgCookie, requirePermission } from "../auth/guard.server";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { createOrg } from "../db/members.server";

export const meta: MetaFunction = () => [{ title: "New organisation · edge-telemetry" }];

// Any member may start an organisation of their own: it is empty, and they are its only owner.
export async function loader({ request, context }: LoaderFunctionArgs) {
  return json({ viewer: await requirePermission(request, envOf(context), "member:read") });
}

/** Creates the organisation with the viewer as its owner and switches to it. */
export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const viewer = await requirePermission(request, env, "member:read");
  const name = field(form, "name");
  if (!name || name.length > 200) return json({ error: "An organisation's name is 1 to 200 characters." }, { status: 400 });
  const orgId = await createOrg(env.db, viewer.userId, name);
  return redirect("/apps", { headers: { "set-cookie": currentOrgCookie(request, orgId) } });
}

export default function NewOrgPage() {
  const { viewer } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={viewer}>
      <h1>New organisation</h1>
      <Form method="post" className="card inline-form" aria-label="Create an organisation">
        <p>You become its owner; invite members and create apps once it exists. Your other organisations stay as they are.</p>
        <CsrfField />
        <label>
          Name
          <input name="name" required maxLength={200} placeholder="Acme" />
        </label>
        <button type="submit">Create organisation</button>
        <FormError result={result} />
      </Form>
    </Shell>
  );
}
