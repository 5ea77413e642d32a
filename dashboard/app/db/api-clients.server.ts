// The organisation's API clients for the dashboard: the shared store (workers/oauth/clients.ts),
// always scoped to the viewer's organisation, with the rule members follow for roles: a member
// grants, rotates or revokes only what they hold themselves, so a client's secret can never carry
// more than the person who saw it.
import * as store from "../../../workers/oauth/clients";
import { API_SCOPES, ROLE_PERMISSIONS, type Permission, type Role } from "../auth/permissions";
import { listMembers } from "./members.server";

export type ApiClient = store.ApiClient;

/** What each scope lets a client's tokens do, in the words the create form shows. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<Permission, string>> = {
  "data:read": "Read the apps' data: overview, events, users, sessions, pipeline",
  "data:export": "Export that data as CSV; manage scheduled exports (files to R2 or S3)",
  "issue:update": "Resolve, ignore or reopen crash issues",
  "insight:update": "Save insights; make and change dashboards",
  "alert:update": "Alert rules and webhook endpoints",
  "flag:update": "Feature flags and the remote configuration",
  "app:create": "Create apps",
  "app:update": "Rename apps and change their settings",
  "app:delete": "Delete apps and all their data",
  "key:read": "List write keys (their prefixes only)",
  "key:create": "Create write keys",
  "key:revoke": "Revoke write keys",
  "member:read": "List the organisation's members",
  "member:invite": "Invite members",
  "member:update": "Change members' roles, remove members",
  "org:update": "Rename the organisation",
  "privacy:manage": "Delete or export a person's data; read the privacy audit log",
};

/** How long a rotated-out secret keeps working, by the rotate form's choice. */
export const OVERLAPS = {
  none: 0,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
} as const;
export type Overlap = keyof typeof OVERLAPS;
export const isOverlap = (v: string): v is Overlap => Object.hasOwn(OVERLAPS, v);

/** Whether `role` holds `scope` (any string a form or a row carries). */
const holds = (role: Role, scope: string): boolean => (ROLE_PERMISSIONS[role] as readonly string[]).includes(scope);

/** The scopes `role` may put on a client: its own permissions. */
export const grantableScopes = (role: Role): Permission[] => API_SCOPES.filter((p) => holds(role, p));

/** Whether `role` holds every scope of `client`, so may see a new secret of it or revoke it. */
export const mayManage = (role: Role, client: Pick<ApiClient, "scopes">): boolean => client.scopes.every((s) => holds(role, s));

/** The create form as typed: `apps` is "all" or "some" (then `appIds`). */
export interface ClientFields {
  name: string;
  scopes: string[];
  apps: "all" | "some";
  appIds: string[];
}

const strings = (form: FormData, name: string): string[] => form.getAll(name).filter((v): v is string => typeof v === "string");

export function readClientFields(form: FormData): ClientFields {
  const name = form.get("name");
  return {
    name: typeof name === "string" ? name : "",
    scopes: strings(form, "scope"),
    apps: form.get("apps") === "some" ? "some" : "all",
    appIds: strings(form, "app"),
  };
}

/** Who acts: the viewer of a page. */
export interface Actor {
  orgId: string;
  userId: string;
  role: Role;
}

export type Refusal = { ok: false; status: 400 | 403 | 404; reason: string };
type Made = { ok: true; client: ApiClient; secret: string };

const refuse = (status: Refusal["status"], reason: string): Refusal => ({
  ok: false,
  status,
  reason,
});

/** Makes a client of the actor's organisation with scopes the actor holds; its secret is in the answer and nowhere else. */
export async function createApiClient(db: D1Database, actor: Actor, fields: ClientFields): Promise<Made | Refusal> {
  if (fields.scopes.length === 0) return refuse(400, "Choose at least one scope.");
  const unused = fields.scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (unused.length > 0) return refuse(400, `No API route asks for ${unused.slice(0, 5).join(", ")}: a client may hold ${API_SCOPES.join(", ")}.`);
  const beyond = fields.scopes.filter((s) => !holds(actor.role, s));
  if (beyond.length > 0) return refuse(403, `Your role (${actor.role}) cannot grant ${beyond.slice(0, 5).join(", ")}: a client gets only scopes you hold.`);
  if (fields.apps === "some" && fields.appIds.length === 0) return refuse(400, "Choose at least one app, or every app.");
  const made = await store.createClient(
    db,
    actor.orgId,
    {
      name: fields.name,
      scopes: fields.scopes,
      appIds: fields.apps === "some" ? fields.appIds : null,
    },
    API_SCOPES,
    actor.userId
  );
  if (!made.ok) return refuse(400, `This client cannot be made: ${made.reason}.`);
  return made;
}

/** The live client `id` of the actor's organisation if the actor may manage it. */
async function manageable(db: D1Database, actor: Actor, id: string, verb: string): Promise<{ ok: true; client: ApiClient } | Refusal> {
  const client = await store.getClient(db, actor.orgId, id);
  if (!client || client.revokedAt !== null) return refuse(404, "Your organisation has no such live API client.");
  if (!mayManage(actor.role, client)) return refuse(403, `Your role (${actor.role}) cannot ${verb} ${client.name}: it holds scopes you do not.`);
  return { ok: true, client };
}

/** A new secret for the client, shown once; the old one keeps working for the chosen overlap. */
export async function rotateApiClient(db: D1Database, actor: Actor, id: string, overlap: string): Promise<Made | Refusal> {
  if (!isOverlap(overlap)) return refuse(400, "Choose how long the old secret keeps working.");
  const found = await manageable(db, actor, id, "rotate");
  if (!found.ok) return found;
  const rotated = await store.rotateSecret(db, actor.orgId, id, OVERLAPS[overlap]);
  if (!rotated) return refuse(404, "Your organisation has no such live API client.");
  return { ok: true, ...rotated };
}

/** Revokes the client: its secrets stop at once, its tokens within minutes. */
export async function revokeApiClient(db: D1Database, actor: Actor, id: string): Promise<{ ok: true; client: ApiClient } | Refusal> {
  const found = await manageable(db, actor, id, "revoke");
  if (!found.ok) return found;
  if (!(await store.revokeClient(db, actor.orgId, id))) return refuse(404, "Your organisation has no such live API client.");
  return found;
}

/** A client as the list shows it: who made it in words. */
export interface ListedClient extends ApiClient {
  createdByName: string;
}

/** The organisation's clients, newest first, revoked ones included. */
export async function listApiClients(db: D1Database, orgId: string): Promise<ListedClient[]> {
  const [clients, members] = await Promise.all([store.listClients(db, orgId), listMembers(db, orgId)]);
  const names = new Map(members.map((m) => [m.userId, m.name || m.email]));
  // The operator's API records its clients as made by "admin"; a member may have left since.
  const nameOf = (by: string): string => names.get(by) ?? (by === "admin" ? "the operator" : "a former member");
  return clients.map((c) => ({ ...c, createdByName: nameOf(c.createdBy) }));
}
