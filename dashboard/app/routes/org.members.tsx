import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useActionData, useLoaderData } from "@remix-run/react";
import { requireIntent, requirePermission, type Viewer } from "../auth/guard.server";
import { can, canGrant, isRole, ROLES, type Permission, type Role } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { MembersTable } from "../components/members";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { changeRole, getMember, listMembers, removeMember, type Member } from "../db/members.server";

export const meta: MetaFunction = () => [{ title: "Members · edge-telemetry" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "member:read");
  const may = (p: Permission) => can(viewer.role, p);
  return json({
    viewer,
    members: await listMembers(env.db, viewer.orgId),
    allowed: { update: may("member:update") },
    grantable: ROLES.filter((r) => canGrant(viewer.role, r)),
  });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = {
  role: "member:update",
  remove: "member:update",
} as const satisfies Record<string, Permission>;

export type MembersResult = { ok: string } | { error: string };

const reply = (body: MembersResult, status = 200) => json(body, { status });
type Reply = ReturnType<typeof reply>;
const aRole = (role: Role): string => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
const who = (m: Member): string => m.name || m.email;

/** The member the form names if the viewer may change them; else the refusal to send. */
async function manageable(db: D1Database, viewer: Viewer, form: FormData): Promise<{ target: Member } | { refusal: Reply }> {
  const target = await getMember(db, viewer.orgId, field(form, "userId"));
  if (!target) return { refusal: reply({ error: "That person is not a member of this organisation." }, 404) };
  if (!canGrant(viewer.role, target.role)) return { refusal: reply({ error: `Your role (${viewer.role}) cannot change or remove ${aRole(target.role)}.` }, 403) };
  return { target };
}

async function changeRoleOf(db: D1Database, viewer: Viewer, form: FormData): Promise<Reply> {
  const role = field(form, "role");
  if (!isRole(role)) return reply({ error: "Choose a role." }, 400);
  const found = await manageable(db, viewer, form);
  if ("refusal" in found) return found.refusal;
  const target = found.target;
  if (!canGrant(viewer.role, role)) return reply({ error: `Your role (${viewer.role}) cannot make anyone ${aRole(role)}.` }, 403);
  const done = await changeRole(db, viewer.orgId, target.userId, role);
  if (done === "not-found") return reply({ error: "That person is not a member of this organisation." }, 404);
  if (done === "last-owner") return reply({ error: `${target.userId === viewer.userId ? "You are" : `${who(target)} is`} the only owner. Make someone else an owner first.` }, 409);
  return reply({ ok: `${target.userId === viewer.userId ? "You are" : `${who(target)} is`} now ${aRole(role)}.` });
}

async function remove(db: D1Database, viewer: Viewer, form: FormData): Promise<Reply> {
  const found = await manageable(db, viewer, form);
  if ("refusal" in found) return found.refusal;
  const target = found.target;
  const self = target.userId === viewer.userId;
  const done = await removeMember(db, viewer.orgId, target.userId);
  if (done === "not-found") return reply({ error: "That person is not a member of this organisation." }, 404);
  if (done === "last-owner") return reply({ error: `${self ? "You are" : `${who(target)} is`} the only owner. Make someone else an owner first.` }, 409);
  if (self) return redirect("/apps");
  return reply({ ok: `${who(target)} was removed from ${viewer.orgName}; their open sessions lost access at once.` });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  switch (intent) {
    case "role":
      return changeRoleOf(env.db, viewer, form);
    case "remove":
      return remove(env.db, viewer, form);
  }
}

export default function MembersPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={data.viewer}>
      <h1>Members of {data.viewer.orgName}</h1>
      <ActionNotice result={result} />
      <MembersTable members={data.members} viewerId={data.viewer.userId} canUpdate={data.allowed.update} grantable={data.grantable} />
    </Shell>
  );
}
