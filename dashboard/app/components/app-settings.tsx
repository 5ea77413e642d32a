import { Form } from "@remix-run/react";
import { MAX_RETENTION_DAYS, ROLLUP_RETENTION_DAYS, type AppLocation, type ShardKey } from "../../../schemas";
import { CsrfField } from "./csrf";
import { utcMinute } from "./format";
import { IntentForm } from "./intent-form";

interface AppView {
  id: string;
  name: string;
  rateLimit: number;
  shardCount: number;
  shardKey: ShardKey;
  autoShards: boolean;
  previousShardCount: number | null;
  shardsFrom: number | null;
  retentionDays: number;
  redactionPolicy: string | null;
  location: AppLocation;
}

/** What the page knows about the app's data lifetime, read by the loader. */
export interface RetentionView {
  /** Rows older than this (epoch ms) are deleted by the next daily run. */
  cutoff: number;
  /** The oldest raw event stored now; null when there is none. */
  oldestEvent: number | null;
  /** Why the oldest event could not be read, or null. */
  error: string | null;
  lastRun: { ranAt: number; eventsDeleted: number; personRowsDeleted: number; error: string | null } | null;
}

interface KeyView {
  id: string;
  prefix: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

interface Allowed {
  update: boolean;
  delete: boolean;
  createKey: boolean;
  revokeKey: boolean;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const count = (n: number, noun: string): string => `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
const minute = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

const LOCATIONS: Record<AppLocation, { label: string; covers: string }> = {
  default: {
    label: "Default (Cloudflare places it)",
    covers: "Its buffered events and archives are stored wherever Cloudflare places them.",
  },
  eu: {
    label: "European Union",
    covers:
      "Its buffered events are held by Durable Objects in the EU jurisdiction and its archives (source maps, dead letters) in an EU R2 bucket. Analytics live in your ClickHouse, in the region it was created in.",
  },
};

/** The location choice of the new-app form: fixed once the app exists. */
export function LocationField() {
  return (
    <label>
      Data location
      <select name="location" defaultValue="default">
        {Object.entries(LOCATIONS).map(([value, l]) => (
          <option key={value} value={value}>
            {l.label}
          </option>
        ))}
      </select>
      <small className="muted">Chosen once: an app's buffered events cannot move to another jurisdiction later.</small>
    </label>
  );
}

/**
 * The last change of the shard count, which the app's own busy shards may have made, and how
 * events are placed when that still differs from a new app (decision record 0036).
 */
export function ShardChange({ app }: { app: AppView }) {
  const byId =
    app.shardKey === "id" && app.shardCount > 1 ? (
      <p className="muted" data-testid="shard-key">
        Events are spread over the shards by event id, so a request reaches most of them. The next change of the count spreads them by device: a client&apos;s request then goes to one
        shard.
      </p>
    ) : null;
  if (app.previousShardCount === null || app.shardsFrom === null || app.previousShardCount === app.shardCount) return byId;
  const at = utcMinute(app.shardsFrom);
  return (
    <>
      <p className="muted" data-testid="shard-change">
        {app.shardsFrom > Date.now()
          ? `Events go to ${app.shardCount} shards instead of ${app.previousShardCount} from ${at} UTC.`
          : `Events have gone to ${app.shardCount} shards instead of ${app.previousShardCount} since ${at} UTC.`}
      </p>
      {byId}
    </>
  );
}

/** How long the app's data lives and where: retention, what the last daily run removed, location. */
export function DataLifecycle({ app, retention }: { app: AppView; retention: RetentionView }) {
  const run = retention.lastRun;
  return (
    <section className="card" aria-label="Data lifecycle">
      <h2>Data lifecycle</h2>
      <p>
        Events older than {app.retentionDays} days are deleted daily, with the hours people were active then and the sessions, profiles and identity links of people last seen before then. The next run deletes
        what is from before {minute(retention.cutoff)}.
      </p>
      <p>
        {retention.error
          ? retention.error
          : retention.oldestEvent === null
            ? "No events are stored yet."
            : `The oldest event kept is from ${minute(retention.oldestEvent)}.`}
      </p>
      <p className="muted">
        Rollups (counts by hour and day, and unique-user sketches from which no id can be read back) are kept {ROLLUP_RETENTION_DAYS} days.
      </p>
      <p className="muted">
        {run === null
          ? "The daily run has not reached this app yet."
          : run.error
            ? `Last run ${minute(run.ranAt)} failed; it is retried at the next run: ${run.error}`
            : `Last run ${minute(run.ranAt)}: deleted ${count(run.eventsDeleted, "event")} and ${count(run.personRowsDeleted, "per-person row")}.`}
      </p>
      <p>
        Data location: <strong>{LOCATIONS[app.location].label}</strong>. {LOCATIONS[app.location].covers} Set when the app was created; it cannot be changed, because
        buffered events cannot move between jurisdictions.
      </p>
    </section>
  );
}

/** Rename, settings, data lifecycle, write keys and deletion; each part shown only to roles allowed to use it. */
export function AppSettingsForms({ app, keys, allowed, retention }: { app: AppView; keys: KeyView[] | null; allowed: Allowed; retention: RetentionView }) {
  const readOnly = !allowed.update;
  return (
    <>
      <section className="card">
        <h2>App</h2>
        <p>
          Id <code>{app.id}</code>
        </p>
        {allowed.update ? (
          <IntentForm intent="rename" label="Rename">
            <label>
              Name
              <input name="name" defaultValue={app.name} required maxLength={200} />
            </label>
          </IntentForm>
        ) : (
          <p>Name: {app.name}</p>
        )}
      </section>

      <section className="card">
        <h2>Ingest settings</h2>
        {readOnly ? <p className="muted">Your role can see these settings but not change them.</p> : null}
        <Form method="post" className="settings-form" aria-label="Ingest settings">
          <CsrfField />
          <input type="hidden" name="intent" value="settings" />
          <fieldset disabled={readOnly}>
            <label>
              Rate limit (events/s across shards, 0 = none)
              <input name="rateLimit" type="number" min={0} max={1_000_000} defaultValue={app.rateLimit} />
            </label>
            <label>
              Shards (for apps beyond about 1,000 requests/s; a new count applies a minute after saving, then stays a day)
              <input name="shardCount" type="number" min={1} max={64} defaultValue={app.shardCount} />
            </label>
            <ShardChange app={app} />
            <label className="check">
              <input type="checkbox" name="autoShards" value="1" defaultChecked={app.autoShards} />
              Raise the shard count by itself when a shard is busy (by default, more than 10,000 events/s, or 500 requests/s from single devices, over a minute)
            </label>
            <label>
              Retention of events and per-person data (days, at most {MAX_RETENTION_DAYS})
              <input name="retentionDays" type="number" min={1} max={MAX_RETENTION_DAYS} defaultValue={app.retentionDays} />
            </label>
            <label>
              Redaction policy and IP handling (JSON; empty = strict defaults)
              <textarea
                name="redactionPolicy"
                rows={4}
                defaultValue={app.redactionPolicy ?? ""}
                placeholder='{"detectors": ["email", "phone", "card"], "action": "mask", "extraKeys": [], "ip": "truncate"}'
              />
            </label>
            {readOnly ? null : <button type="submit">Save settings</button>}
          </fieldset>
        </Form>
      </section>

      <DataLifecycle app={app} retention={retention} />

      <section className="card">
        <h2>Write keys</h2>
        {keys === null ? (
          <p className="muted">Your role cannot see write keys.</p>
        ) : keys.length === 0 ? (
          <p className="muted">No keys yet: create one to start sending events.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>prefix</th>
                <th>name</th>
                <th>created</th>
                <th>status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.name}</td>
                  <td>{day(k.createdAt)}</td>
                  <td>{k.revokedAt ? `revoked ${day(k.revokedAt)}` : "active"}</td>
                  <td>
                    {allowed.revokeKey && !k.revokedAt ? (
                      <IntentForm intent="revoke-key" label="Revoke" danger>
                        <input type="hidden" name="keyId" value={k.id} />
                      </IntentForm>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {allowed.createKey ? (
          <IntentForm intent="create-key" label="Create key">
            <label>
              Key name
              <input name="name" maxLength={200} placeholder="web" />
            </label>
          </IntentForm>
        ) : null}
      </section>

      {allowed.delete ? (
        <section className="card danger-zone">
          <h2>Delete app</h2>
          <p>Its write keys stop working at once and its events are erased. Its id is never given to another app.</p>
          <IntentForm intent="delete" label="Delete app" danger>
            <label>
              <span>
                Type <code>{app.id}</code> to confirm
              </span>
              <input name="confirm" required autoComplete="off" />
            </label>
          </IntentForm>
        </section>
      ) : null}
    </>
  );
}
