import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useActionData, useLoaderData } from "@remix-run/react";
import { requireIntent, requirePermission } from "../auth/guard.server";
import { can, type Permission } from "../auth/permissions";
import { ActionNotice, type ActionResult } from "../components/action-notice";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { ownerCount, removeMember, renameOrg } from "../db/members.server";

export const meta: MetaFunction = () => [{ title: "Organisation · edge-telemetry" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "member:read");
  const lastOwner = viewer.role === "owner" && (await ownerCount(env.db, viewer.orgId)) === 1;
  return json({ viewer, canRename: can(viewer.role, "org:update"), lastOwner });
}

/** What each form's `intent` needs: leaving is open to every member. */
export const INTENT_PERMISSIONS = {
  rename: "org:update",
  leave: "member:read",
} as const satisfies Record<string, Permission>;

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const reply = (body: ActionResult, status = 200) => json(body, { status });
  switch (intent) {
    case "rename": {
      const name = field(form, "name");
      if (!name || name.length > 200) return reply({ error: "An organisation's name is 1 to 200 characters." }, 400);
      await renameOrg(env.db, viewer.orgId, name);
      return reply({ ok: `Renamed to ${name}.` });
    }
    case "leave": {
      const done = await removeMember(env.db, viewer.orgId, viewer.userId);
      if (done === "last-owner") return reply({ error: `You are the only owner of ${viewer.orgName}. Make someone else an owner first.` }, 409);
      return redirect("/apps");
    }
  }
}

export default function OrgSettingsPage() {
  const { viewer, canRename, lastOwner } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={viewer}>
      <h1>Organisation</h1>
      <ActionNotice result={result} />
      <section className="card">
        <h2>{viewer.orgName}</h2>
        <p>
          Id <code>{viewer.orgId}</code> · your role <strong>{viewer.role}</strong>
        </p>
        {canRename ? (
          <IntentForm intent="rename" label="Rename">
            <label>
              Name
              <input name="name" defaultValue={viewer.orgName} required maxLength={200} />
            </label>
          </IntentForm>
        ) : (
          <p className="muted">Only owners rename the organisation.</p>
        )}
      </section>
      <section className="card danger-zone">
        <h2>Leave {viewer.orgName}</h2>
        {lastOwner ? (
          <p className="muted">You are its only owner: make another member an owner on the members page before you leave.</p>
        ) : (
          <>
            <p>You lose access to its apps at once; to come back you need a new invitation.</p>
            <IntentForm intent="leave" label="Leave organisation" confirm={`Leave ${viewer.orgName}? You lose access at once.`} danger />
          </>
        )}
      </section>
    </Shell>
  );
}
