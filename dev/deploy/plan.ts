// What `npm run deploy` creates and what it reuses, decided from wrangler's listings. Pure:
// the listings come in as wrangler printed them, the plan goes out as commands.
import { isRecord } from "../../workers/lib/json";
import type { ResourceNames } from "./environment";

/** `wrangler d1 list --json`. */
export function parseD1List(stdout: string): Array<{ name: string; id: string }> {
  const raw: unknown = JSON.parse(jsonPart(stdout));
  if (!Array.isArray(raw)) throw new Error("wrangler d1 list --json did not print a list");
  return raw.filter(isRecord).flatMap((d) => (typeof d.name === "string" && typeof d.uuid === "string" ? [{ name: d.name, id: d.uuid }] : []));
}

/** `wrangler pages project list --json`: each project's name and its domains (the first is its pages.dev one). */
export function parsePagesProjects(stdout: string): Array<{ name: string; domains: string[] }> {
  const raw: unknown = JSON.parse(jsonPart(stdout));
  if (!Array.isArray(raw)) throw new Error("wrangler pages project list --json did not print a list");
  return raw.filter(isRecord).flatMap((p) => {
    const name = p["Project Name"];
    const domains = p["Project Domains"];
    return typeof name === "string" ? [{ name, domains: typeof domains === "string" ? domains.split(",").map((d) => d.trim()).filter((d) => d !== "") : [] }] : [];
  });
}

/** `wrangler secret list` (JSON by default): the names of the Worker's secrets. */
export function parseSecretList(stdout: string): string[] {
  const raw: unknown = JSON.parse(jsonPart(stdout));
  if (!Array.isArray(raw)) throw new Error("wrangler secret list did not print a list");
  return raw.filter(isRecord).flatMap((s) => (typeof s.name === "string" ? [s.name] : []));
}

/** `wrangler pages secret list`: lines `  - NAME: Value Encrypted`. */
export const parsePagesSecretList = (stdout: string): string[] => [...stripAnsi(stdout).matchAll(/^\s*-\s+([A-Za-z_][A-Za-z0-9_]*):/gm)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));

/** `wrangler queues list` has no JSON: a table whose header row has a `name` column. */
export function parseQueueList(stdout: string): string[] {
  const rows = stripAnsi(stdout)
    .split("\n")
    .filter((l) => l.trimStart().startsWith("│"))
    .map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
  const header = rows[0];
  if (header === undefined) return [];
  const col = header.indexOf("name");
  if (col < 0) throw new Error("wrangler queues list: no name column in its table");
  return rows.slice(1).flatMap((r) => (r[col] ? [r[col]] : []));
}

/** `wrangler r2 bucket list` has no JSON: blocks of `name:  <bucket>` and `creation_date: …`. */
export const parseR2BucketList = (stdout: string): string[] => [...stripAnsi(stdout).matchAll(/^name:\s+(\S+)\s*$/gm)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));

/** The account as wrangler listed it; `undefined` where it was not asked (a dry run without a token). */
export interface Existing {
  d1?: Array<{ name: string; id: string }>;
  queues?: string[];
  /** By jurisdiction: "" for the default one. */
  buckets?: Record<string, string[]>;
  pages?: Array<{ name: string; domains: string[] }>;
}

export type Action = "create" | "reuse" | "unknown";

export interface Step {
  kind: "d1" | "queue" | "r2" | "pages";
  name: string;
  action: Action;
  /** wrangler arguments that create it (run only for `create`; shown for `unknown`). */
  create: string[];
  /** Known when reused: the D1 database's id, the Pages project's domain. */
  detail?: string;
}

/** One step per resource of the environment: reuse what exists by name, create what does not. */
export function planResources(names: ResourceNames, existing: Existing, recordedD1Id?: string): Step[] {
  const steps: Step[] = [];
  const act = (list: readonly string[] | undefined, name: string): Action => (list === undefined ? "unknown" : list.includes(name) ? "reuse" : "create");

  const db = existing.d1?.find((d) => d.name === names.d1.name);
  if (db !== undefined && recordedD1Id !== undefined && db.id !== recordedD1Id) {
    // Creating a second database, or silently switching, would lose every app and key.
    throw new Error(`D1 database ${names.d1.name} has id ${db.id} but deploy/${names.env}.json records ${recordedD1Id}: fix the file before deploying`);
  }
  const d1Step: Step = { kind: "d1", name: names.d1.name, action: act(existing.d1?.map((d) => d.name), names.d1.name), create: ["d1", "create", names.d1.name] };
  const d1Id = db?.id ?? recordedD1Id;
  if (d1Id !== undefined) d1Step.detail = d1Id;
  steps.push(d1Step);

  for (const q of names.queues) steps.push({ kind: "queue", name: q, action: act(existing.queues, q), create: ["queues", "create", q] });
  for (const b of names.buckets) {
    const jurisdiction = b.jurisdiction ?? "";
    const create = ["r2", "bucket", "create", b.name, ...(jurisdiction === "" ? [] : ["--jurisdiction", jurisdiction])];
    steps.push({ kind: "r2", name: b.name, action: act(existing.buckets?.[jurisdiction], b.name), create });
  }
  const project = existing.pages?.find((p) => p.name === names.pagesProject);
  const pagesStep: Step = { kind: "pages", name: names.pagesProject, action: act(existing.pages?.map((p) => p.name), names.pagesProject), create: ["pages", "project", "create", names.pagesProject, "--production-branch", "main"] };
  if (project?.domains[0] !== undefined) pagesStep.detail = project.domains[0];
  steps.push(pagesStep);
  return steps;
}

/** The Worker's and the dashboard's secrets: each one given, or generated when it is not set yet. */
export interface SecretPlan {
  worker: Record<string, string>;
  dashboard: Record<string, string>;
  /** Names generated by this run: printed once, as nothing can read a secret back. */
  generated: string[];
}

export interface SecretInputs {
  clickhouseUser: string;
  clickhousePassword: string;
  /** The Worker's own ClickHouse user (npm run clickhouse:users); the migrations' user when not given. */
  workerClickhouseUser?: string;
  workerClickhousePassword?: string;
  /** Read-only ClickHouse user for the dashboard; the Worker's when not given. */
  dashboardClickhouseUser?: string;
  dashboardClickhousePassword?: string;
  given: Partial<Record<"ADMIN_TOKEN" | "OAUTH_KEY_SECRET" | "SESSION_SECRET" | "SETUP_TOKEN", string>>;
  /** Names already set, or undefined when not known (dry run). */
  workerHas?: string[];
  dashboardHas?: string[];
}

/**
 * Given secrets always win; a generated one is only made when the secret is not set yet, so a
 * second run never rotates the admin token or the session secret behind the operator's back.
 */
export function planSecrets(inputs: SecretInputs, random: () => string, localDefaults: readonly string[]): SecretPlan {
  for (const [name, value] of Object.entries(inputs.given)) {
    if (value !== undefined && localDefaults.includes(value)) throw new Error(`${name} is the local development default published in this repository: use a secret of your own`);
  }
  const generated: string[] = [];
  const pick = (name: keyof SecretInputs["given"], has: string[] | undefined, into: Record<string, string>): void => {
    const given = inputs.given[name];
    if (given !== undefined && given !== "") into[name] = given;
    else if (!(has ?? []).includes(name)) {
      into[name] = random();
      generated.push(name);
    }
  };
  const ownUser = inputs.workerClickhouseUser !== undefined && inputs.workerClickhouseUser !== "";
  const worker: Record<string, string> = {
    CLICKHOUSE_USER: ownUser ? (inputs.workerClickhouseUser ?? "") : inputs.clickhouseUser,
    CLICKHOUSE_PASSWORD: ownUser ? (inputs.workerClickhousePassword ?? "") : inputs.clickhousePassword,
  };
  pick("ADMIN_TOKEN", inputs.workerHas, worker);
  pick("OAUTH_KEY_SECRET", inputs.workerHas, worker);
  const dashboard: Record<string, string> = {
    CLICKHOUSE_USER: inputs.dashboardClickhouseUser ?? worker.CLICKHOUSE_USER ?? inputs.clickhouseUser,
    CLICKHOUSE_PASSWORD: inputs.dashboardClickhousePassword ?? worker.CLICKHOUSE_PASSWORD ?? inputs.clickhousePassword,
  };
  pick("SESSION_SECRET", inputs.dashboardHas, dashboard);
  pick("SETUP_TOKEN", inputs.dashboardHas, dashboard);
  return { worker, dashboard, generated };
}

/** The Worker's URL in `wrangler deploy`'s output (its workers.dev address or first route). */
export const deployedUrl = (stdout: string): string | undefined => /https:\/\/[a-z0-9.-]+\.workers\.dev\b/i.exec(stripAnsi(stdout))?.[0];

/** Wrangler may log lines before the JSON document it prints. */
function jsonPart(stdout: string): string {
  const text = stripAnsi(stdout);
  const start = text.search(/^\s*[[{]/m);
  return start < 0 ? text : text.slice(start);
}

const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, "");
