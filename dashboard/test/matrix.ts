// The route × role matrix's shape, shared by every matrix file: a case names a route, the roles
// allowed and the status they get; everyone else must get 403.
import { expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";

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
