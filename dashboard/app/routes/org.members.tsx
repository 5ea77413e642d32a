import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireIntent, requirePermission, type Viewer } from "../auth/guard.server";
import { can, canGrant, isRole, ROLES, type Permission, type Role } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { InvitationsSection, MembersTable } from "../components/members";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { createInvitation, INVITATION_TTL_MS, listPendingInvitations, revokeInvitation } from "../db/invitations.server";
import { changeRole, getMember, isMemberEmail, listMembers, removeMember, type Member } from "../db/members.server";

export const meta: MetaFunction = () => [{ title: "Members · edge-telemetry" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "member:read");
  const may = (p: Permission) => can(viewer.role, p);
  return json({
    viewer,
    members: await listMembers(env.db, viewer.orgId),
    invitations: may("member:invite") ? await listPendingInvitations(env.db, viewer.orgId) : null,
    allowed: { update: may("member:update"), invite: may("member:invite") },
    grantable: ROLES.filter((r) => canGrant(viewer.role, r)),
  });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = {
  role: "member:update",
  remove: "member:update",
  invite: "member:invite",
  "revoke-invitation": "member:invite",
} as const satisfies Record<string, Permission>;

export type MembersResult = { ok: string; link?: string } | { error: string };

const reply = (body: MembersResult, status = 200) => json(body, { status });
type Reply = ReturnType<typeof reply>;
const aRole = (role: Role): string => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
const who = (m: Member): string => m.name || m.email;

const Invite = z.object({
  email: z.email("Enter a valid e-mail address.").max(254),
  role: z.enum(ROLES, { error: "Choose a role." }).refine((r) => r !== "owner", "Invite as admin, developer, analyst or viewer; make an owner from the member list once they have joined."),
});

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

async function invite(db: D1Database, viewer: Viewer, form: FormData, origin: string): Promise<Reply> {
  const parsed = Invite.safeParse({ email: field(form, "email").toLowerCase(), role: field(form, "role") });
  if (!parsed.success) return reply({ error: parsed.error.issues.map((i) => i.message).join(" ") }, 400);
  const { email, role } = parsed.data;
  if (!canGrant(viewer.role, role)) return reply({ error: `Your role (${viewer.role}) cannot make anyone ${aRole(role)}.` }, 403);
  if (await isMemberEmail(db, viewer.orgId, email)) return reply({ error: `${email} is already a member of ${viewer.orgName}.` }, 409);
  const { token, replaced } = await createInvitation(db, viewer.orgId, { email, role, invitedBy: viewer.userId });
  const days = INVITATION_TTL_MS / 86_400_000;
  const replacedNote = replaced > 0 ? " The earlier link for this address no longer works." : "";
  return reply({
    ok: `Invitation created for ${email} as ${aRole(role)}. Copy the link and send it to them: it is shown only now, works once and only for ${email}, and expires in ${days} days.${replacedNote}`,
    link: `${origin}/invite/${token}`,
  });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  switch (intent) {
    case "role":
      return changeRoleOf(env.db, viewer, form);
    case "remove":
      return remove(env.db, viewer, form);
    case "invite":
      return invite(env.db, viewer, form, new URL(request.url).origin);
    case "revoke-invitation":
      if (!(await revokeInvitation(env.db, viewer.orgId, field(form, "invitationId")))) return reply({ error: "That invitation is no longer pending." }, 404);
      return reply({ ok: "Invitation revoked: its link no longer works." });
  }
}

export default function MembersPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={data.viewer}>
      <h1>Members of {data.viewer.orgName}</h1>
      <ActionNotice result={result} secret={result && "link" in result ? result.link : undefined} />
      <MembersTable members={data.members} viewerId={data.viewer.userId} canUpdate={data.allowed.update} grantable={data.grantable} />
      {data.invitations ? <InvitationsSection invitations={data.invitations} grantable={data.grantable} /> : null}
    </Shell>
  );
}
