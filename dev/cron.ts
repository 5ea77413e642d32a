// Cron Triggers for `npm start`: `wrangler dev` runs a scheduled handler only when asked, so this
// asks it at the start of every minute for each of wrangler.toml's schedules that matches, as
// Cloudflare would once deployed (crash states, alert rules and webhook sweeps every minute).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The `crons = [...]` of wrangler.toml's `[triggers]`. */
export function wranglerCrons(root: string): string[] {
  const toml = readFileSync(resolve(root, "wrangler.toml"), "utf8");
  const line = /^crons\s*=\s*\[(.*)\]\s*$/m.exec(toml);
  return line?.[1] ? [...line[1].matchAll(/"([^"]+)"/g)].flatMap((m) => (m[1] ? [m[1]] : [])) : [];
}

// Each field is `*`, a number, a list `1,2` or a step `*/5`: what this project's schedules use.
function fieldMatches(field: string, value: number): boolean {
  return field.split(",").some((part) => {
    if (part === "*") return true;
    const step = /^\*\/(\d+)$/.exec(part);
    if (step?.[1]) return value % Number(step[1]) === 0;
    return /^\d+$/.test(part) && Number(part) === value;
  });
}

/** Whether a five-field cron expression fires at `at` (UTC), e.g. `cronMatches("41 * * * *", new Date("2026-01-01T10:41:00Z"))`. */
export function cronMatches(cron: string, at: Date): boolean {
  const [minute, hour, day, month, weekday] = cron.trim().split(/\s+/);
  if (minute === undefined || hour === undefined || day === undefined || month === undefined || weekday === undefined) return false;
  return (
    fieldMatches(minute, at.getUTCMinutes()) &&
    fieldMatches(hour, at.getUTCHours()) &&
    fieldMatches(day, at.getUTCDate()) &&
    fieldMatches(month, at.getUTCMonth() + 1) &&
    fieldMatches(weekday, at.getUTCDay())
  );
}

/** Fires the matching schedules on `edgeUrl` at every minute's start until the returned function is called. */
export function startLocalCron(edgeUrl: string, crons: readonly string[]): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const fire = async (minute: number): Promise<void> => {
    for (const cron of crons.filter((c) => cronMatches(c, new Date(minute)))) {
      try {
        const res = await fetch(`${edgeUrl}/__scheduled?cron=${encodeURIComponent(cron)}&time=${minute}`);
        if (!res.ok) console.error(`cron ${cron}: the Worker answered ${res.status}`);
        await res.body?.cancel();
      } catch (err) {
        console.error(`cron ${cron}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    const next = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
    // A second into the minute, so the Worker's clock agrees it has begun.
    timer = setTimeout(() => void fire(next).finally(schedule), next - Date.now() + 1000);
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
