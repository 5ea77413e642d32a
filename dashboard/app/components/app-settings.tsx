import { Form } from "@remix-run/react";
import { CsrfField } from "./csrf";
import { IntentForm } from "./intent-form";

interface AppView {
  id: string;
  name: string;
  rateLimit: number;
  shardCount: number;
  retentionDays: number;
  redactionPolicy: string | null;
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

/** Rename, settings, write keys and deletion; each part shown only to roles allowed to use it. */
export function AppSettingsForms({ app, keys, allowed }: { app: AppView; keys: KeyView[] | null; allowed: Allowed }) {
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
              Shards (for apps beyond about 1,000 requests/s)
              <input name="shardCount" type="number" min={1} max={64} defaultValue={app.shardCount} />
            </label>
            <label>
              Retention (days)
              <input name="retentionDays" type="number" min={1} max={3650} defaultValue={app.retentionDays} />
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
