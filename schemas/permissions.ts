// Roles and what each may do: the one place that decides, for the dashboard's members and the
// API's clients alike (an API client's scopes are these permissions). Loaders, actions and API
// routes ask for a permission (requirePermission), never for a role, so a new role is one line here.

export const ROLES = ["owner", "admin", "developer", "analyst", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  "data:read", // views: overview, events, users, sessions, pipeline
  "data:export", // CSV export, scheduled exports
  "issue:update", // resolve, ignore or reopen crash issues
  "insight:update", // save insights, make and change dashboards
  "alert:update", // alert rules and the organisation's webhook endpoints (whose URLs can be credentials), their logs and sends
  "flag:update", // feature flags and the remote configuration devices read: create, change, switch off, restore, delete
  "app:create",
  "app:update", // rename, settings
  "app:delete",
  "key:read", // prefixes only
  "key:create",
  "key:revoke",
  "member:read",
  "member:invite",
  "member:update", // change roles, remove members
  "org:update",
  "privacy:manage", // delete a person's data, export it for a subject access request, read the privacy audit log
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ALL: readonly Permission[] = PERMISSIONS;

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: ALL,
  admin: ALL.filter((p) => p !== "org:update"),
  developer: ["data:read", "data:export", "issue:update", "insight:update", "alert:update", "flag:update", "app:create", "app:update", "key:read", "key:create", "key:revoke", "member:read"],
  analyst: ["data:read", "data:export", "insight:update", "key:read", "member:read"],
  viewer: ["data:read", "member:read"],
};

/** `can("viewer", "app:update") === false` */
export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/**
 * Whether `actor` may give `role` to someone or change or remove someone who has it: only roles
 * with no permission the actor lacks, so admins manage admins and below and only owners touch
 * owners. `canGrant("admin", "owner") === false`
 */
export function canGrant(actor: Role, role: Role): boolean {
  return ROLE_PERMISSIONS[role].every((p) => can(actor, p));
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/**
 * The permissions an API client may hold: those the API's routes check (the admin API's table in
 * workers/http/admin-auth.ts and the query API's data:read). The others govern only what members
 * do in the dashboard, so a client holding one could do nothing with it.
 */
export const API_SCOPES = ["data:read", "data:export", "app:create", "app:update", "app:delete", "key:create", "key:revoke", "alert:update", "flag:update", "privacy:manage"] as const satisfies readonly Permission[];
export type ApiScope = (typeof API_SCOPES)[number];
