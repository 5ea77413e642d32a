// The route × role matrix's shape, shared by every matrix file: a case names a route, the roles
// allowed and the status they get; everyone else must get 403.
import { expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import { createApp } from "../app/db/apps.server";
import type { Harness } from "./harness";
import { newMember, newOrg } from "./orgs";

export interface Case {
  name: string;
  allowed: readonly Role[];
  okStatus: number;
  call(session: string): Promise<Response>;
}

/** One test per case and role, with each role's session from `sessions`; call inside a describe. */
export function roleMatrix(cases: readonly Case[], sessions: ReadonlyMap<Role, string>): void {
  for (const c of cases) {
    for (const role of ROLES) {
      const allowed = c.allowed.includes(role);
      it(`${c.name} as ${role}: ${allowed ? "allowed" : "refused"}`, async () => {
        const res = await c.call(sessions.get(role) ?? "");
        expect(res.status).toBe(allowed ? c.okStatus : 403);
      });
    }
  }
}

/**
 * The world most matrices need: Acme, with one member of each role (their sessions) and its app
 * `app_x`, and Other, another organisation with `app_other`, which Acme's members must not reach.
 */
export async function matrixWorld(h: Harness): Promise<{ orgId: string; otherOrgId: string; sessions: Map<Role, string> }> {
  const acme = await newOrg(h, "Acme");
  const sessions = new Map<Role, string>([["owner", acme.owner.session]]);
  for (const role of ROLES.filter((r) => r !== "owner")) sessions.set(role, (await newMember(h, acme.orgId, role)).session);
  await createApp(h.db, acme.orgId, { id: "app_x", name: "X" });
  const other = await newOrg(h, "Other");
  await createApp(h.db, other.orgId, { id: "app_other", name: "Other's app" });
  return { orgId: acme.orgId, otherOrgId: other.orgId, sessions };
}
