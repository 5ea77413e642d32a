// Changing an issue's state from its page: resolve (now, in a release, in the next release),
// ignore (forever, until N more events, until a date) or reopen. Only an issue the app has
// crashes for can be changed, so a mistyped or foreign fingerprint is a 404, not a stray row.
import { json, type ActionFunctionArgs } from "@remix-run/cloudflare";
import { csrfForm } from "../auth/csrf.server";
import { requireApp } from "../auth/guard.server";
import { envOf, field, intentOf } from "../context.server";
import { setIssueState, type IssueChange } from "../db/crash-issues.server";
import type { DashboardEnv } from "../env.server";
import { queryApp } from "../queries/clickhouse.server";

/** The forms of IssueStateForm, by `intent`; each needs `issue:update`. */
export const ISSUE_STATE_INTENTS = {
  resolve: "issue:update",
  "resolve-next": "issue:update",
  "resolve-in": "issue:update",
  ignore: "issue:update",
  reopen: "issue:update",
} as const;

export type IssueStateResult = { ok: string } | { error: string };

export const MAX_RELEASE_LENGTH = 256;
export const MAX_IGNORE_COUNT = 1_000_000_000;

/** How many crashes the app has stored for the issue, all time; 0 when it has none. */
export async function issueTotal(cfg: DashboardEnv["clickhouse"], appId: string, fingerprint: string): Promise<number> {
  const rows = await queryApp<{ events: number }>(
    cfg,
    appId,
    "SELECT sum(events) AS events FROM crash_issues_hourly WHERE app_id = {app:String} AND fingerprint = {fingerprint:String}",
    { fingerprint },
  );
  return Number(rows[0]?.events ?? 0);
}

/**
 * The end of an ignore from the form's date (`2026-12-01`, midnight UTC) or date and time
 * (`2026-12-01T09:30`, UTC), or what is wrong with it.
 */
export function parseIgnoreUntil(raw: string, now: number): number | { error: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(raw);
  if (!m) return { error: "Give the date the ignore ends as YYYY-MM-DD (UTC)." };
  const [, y, mo, d, h, mi] = m;
  const at = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0));
  const back = new Date(at);
  if (Number.isNaN(at) || back.getUTCDate() !== Number(d) || back.getUTCMonth() !== Number(mo) - 1) return { error: `${raw} is not a date.` };
  if (at <= now) return { error: "The date the ignore ends must be in the future." };
  if (at > now + 5 * 365 * 86_400_000) return { error: "Ignore for at most five years; ignore forever for longer." };
  return at;
}

/** The issue page's action: one state change, by someone allowed `issue:update`. */
export async function issueStateAction({ request, params, context }: ActionFunctionArgs): Promise<Response> {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, ISSUE_STATE_INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, ISSUE_STATE_INTENTS[intent]);
  const fingerprint = params.issue ?? "";
  const reply = (body: IssueStateResult, status = 200) => json(body, { status });
  const total = fingerprint === "" || fingerprint.length > 256 ? 0 : await issueTotal(env.clickhouse, app.id, fingerprint);
  if (total === 0) throw new Response("No such issue in this app", { status: 404 });

  const now = Date.now();
  let change: IssueChange;
  let done: string;
  switch (intent) {
    case "resolve":
      change = { status: "resolved" };
      done = "Resolved. A new crash of this issue reopens it as regressed.";
      break;
    case "resolve-next":
      change = { status: "resolved", next: true };
      done = "Resolved in the next release. A crash from a release not seen before now reopens it as regressed.";
      break;
    case "resolve-in": {
      const release = field(form, "release");
      if (release === "") return reply({ error: "Name the release the fix shipped in." }, 400);
      if (release.length > MAX_RELEASE_LENGTH) return reply({ error: `A release name is at most ${MAX_RELEASE_LENGTH} characters.` }, 400);
      change = { status: "resolved", in: release };
      done = `Resolved in ${release}. A crash from a later release reopens it as regressed.`;
      break;
    }
    case "ignore": {
      const mode = field(form, "until");
      if (mode === "" || mode === "forever") {
        change = { status: "ignored" };
        done = "Ignored. It stays out of the unresolved list until someone reopens it.";
      } else if (mode === "count") {
        const raw = field(form, "count");
        const count = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isInteger(count) || count < 1 || count > MAX_IGNORE_COUNT) return reply({ error: "Give how many more events end the ignore: a whole number from 1." }, 400);
        change = { status: "ignored", count, base: total };
        done = `Ignored until ${count} more event${count === 1 ? "" : "s"}.`;
      } else if (mode === "date") {
        const until = parseIgnoreUntil(field(form, "date"), now);
        if (typeof until !== "number") return reply(until, 400);
        change = { status: "ignored", until };
        done = `Ignored until ${new Date(until).toISOString().slice(0, 16).replace("T", " ")} UTC.`;
      } else {
        return reply({ error: "Choose how long to ignore it: forever, until more events, or until a date." }, 400);
      }
      break;
    }
    case "reopen":
      change = { status: "unresolved" };
      done = "Reopened.";
      break;
  }
  await setIssueState(env.db, app.id, fingerprint, change, viewer.email, now);
  return reply({ ok: done });
}
