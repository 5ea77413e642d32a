import { Link } from "@remix-run/react";
import type { ReactNode } from "react";
import type { Role } from "../auth/permissions";
import { IntentForm } from "./intent-form";

interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: number;
}

interface InvitationView {
  id: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  expiresAt: number;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function RoleSelect({ roles, current, label }: { roles: readonly Role[]; current: Role; label: ReactNode }) {
  return (
    <label>
      {label}
      <select name="role" defaultValue={current}>
        {roles.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Everyone in the organisation; for roles that manage members, a role picker and a remove button
 * on each member whose role they could grant. The last owner has neither: someone must own the
 * organisation. Leaving is in the organisation settings, for every role.
 */
export function MembersTable({ members, viewerId, canUpdate, grantable }: { members: MemberView[]; viewerId: string; canUpdate: boolean; grantable: readonly Role[] }) {
  const owners = members.filter((m) => m.role === "owner").length;
  return (
    <section className="card">
      <h2>Members</h2>
      <table className="members">
        <thead>
          <tr>
            <th>name</th>
            <th>e-mail</th>
            <th>role</th>
            <th>joined</th>
            {canUpdate ? <th /> : null}
          </tr>
        </thead>
        <tbody>
          {members.map((m) => {
            const self = m.userId === viewerId;
            const lastOwner = m.role === "owner" && owners === 1;
            const editable = canUpdate && grantable.includes(m.role) && !lastOwner;
            return (
              <tr key={m.userId}>
                <td>
                  {m.name || <span className="muted">no name</span>}
                  {self ? <span className="badge you">you</span> : null}
                </td>
                <td>{m.email}</td>
                <td>
                  {editable ? (
                    <IntentForm intent="role" label="Change" title={`Role of ${m.email}`}>
                      <input type="hidden" name="userId" value={m.userId} />
                      <RoleSelect roles={grantable} current={m.role} label={<span className="sr-only">Role of {m.email}</span>} />
                    </IntentForm>
                  ) : (
                    <>
                      {m.role}
                      {lastOwner && canUpdate ? <span className="muted small"> (the only owner: make another before changing)</span> : null}
                    </>
                  )}
                </td>
                <td>{day(m.joinedAt)}</td>
                {canUpdate ? (
                  <td>
                    {self ? (
                      <Link to="/org/settings" className="small">
                        leave in organisation settings
                      </Link>
                    ) : editable ? (
                      <IntentForm intent="remove" label="Remove" title={`Remove ${m.email}`} confirm={`Remove ${m.email}? They lose access at once.`} danger>
                        <input type="hidden" name="userId" value={m.userId} />
                      </IntentForm>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {canUpdate ? null : <p className="muted small">Owners and admins change roles and remove members.</p>}
    </section>
  );
}

/** Inviting by e-mail (a link to pass on, since nothing sends mail) and the pending invitations. */
export function InvitationsSection({ invitations, grantable }: { invitations: InvitationView[]; grantable: readonly Role[] }) {
  const invitable = grantable.filter((r) => r !== "owner");
  return (
    <>
      <section className="card">
        <h2>Invite someone</h2>
        <IntentForm intent="invite" label="Create invitation link">
          <label>
            E-mail
            <input name="email" type="email" required maxLength={254} autoComplete="off" placeholder="name@example.com" />
          </label>
          <RoleSelect roles={invitable} current="viewer" label="Role" />
        </IntentForm>
        <p className="muted small">Nothing is e-mailed: you get a link to send yourself. It works once, only for that address, for 7 days.</p>
      </section>
      <section className="card">
        <h2>Pending invitations</h2>
        {invitations.length === 0 ? (
          <p className="muted">No pending invitations. Links that were used, revoked or expired leave this list.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>e-mail</th>
                <th>role</th>
                <th>invited by</th>
                <th>expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {invitations.map((i) => (
                <tr key={i.id}>
                  <td>{i.email}</td>
                  <td>{i.role}</td>
                  <td>{i.invitedBy ?? <span className="muted">—</span>}</td>
                  <td>{day(i.expiresAt)}</td>
                  <td>
                    <IntentForm intent="revoke-invitation" label="Revoke" title={`Revoke the invitation for ${i.email}`} danger>
                      <input type="hidden" name="invitationId" value={i.id} />
                    </IntentForm>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
