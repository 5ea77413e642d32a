import { Form, useSearchParams } from "@remix-run/react";
import { millis, utcTime } from "./format";
import { IntentForm } from "./intent-form";
import { Pager } from "./pager";

interface AttemptView {
  at: number;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  responseExcerpt: string;
}

/** A delivery as the endpoint's log shows it. */
export interface DeliveryView {
  id: string;
  appId: string;
  appName: string;
  ruleId: string | null;
  ruleName: string | null;
  eventType: string;
  payload: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: number | null;
  createdAt: number;
  attemptLog: AttemptView[];
}

// The body as sent, indented when it is JSON (Slack's and ours are) so it reads.
function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

function Status({ d }: { d: DeliveryView }) {
  return (
    <span data-status={d.status}>
      <span className={`badge state-${d.status}`}>{d.status}</span>
      {d.status === "pending" && d.nextAttemptAt !== null ? <span className="small muted"> next attempt {utcTime(d.nextAttemptAt).slice(0, 19)} UTC</span> : null}
    </span>
  );
}

function Rule({ d }: { d: DeliveryView }) {
  if (d.ruleId === null) return <span className="muted">none (endpoint test)</span>;
  if (d.ruleName === null) return <span className="muted">deleted rule {d.ruleId}</span>;
  return <span>{d.ruleName}</span>;
}

function Attempts({ attempts }: { attempts: AttemptView[] }) {
  if (attempts.length === 0) return <p className="muted small">No attempt yet: the first is made as soon as the delivery queue reaches it.</p>;
  return (
    <table className="attempts">
      <thead>
        <tr>
          <th>Time (UTC)</th>
          <th>Result</th>
          <th className="num">Latency</th>
          <th>Response excerpt</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a, i) => {
          const ok = a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
          return (
            <tr key={`${a.at}-${i}`}>
              <td className="nowrap">{utcTime(a.at)}</td>
              <td>
                {a.statusCode !== null ? <span className={`badge ${ok ? "state-delivered" : "state-failed"}`}>HTTP {a.statusCode}</span> : null}
                {a.error ? <span className="error"> {a.error}</span> : null}
              </td>
              <td className="num">{millis(a.latencyMs)}</td>
              <td>{a.responseExcerpt ? <code className="excerpt">{a.responseExcerpt}</code> : <span className="muted">empty</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The app filter of the log, in the URL; it starts the log over from the newest. */
export function DeliveryFilter({ apps, app }: { apps: ReadonlyArray<{ id: string; name: string }>; app: string }) {
  const [params] = useSearchParams();
  const carried = [...params].filter(([k]) => k !== "app" && k !== "before");
  return (
    <Form method="get" className="filters" aria-label="Filter deliveries">
      {carried.map(([k, v]) => (
        <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
      ))}
      <label>
        App
        <select name="app" defaultValue={app} key={app}>
          <option value="">All apps</option>
          {apps.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({a.id})
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Apply</button>
    </Form>
  );
}

/**
 * An endpoint's deliveries, newest first; each opens (without JavaScript) to its attempts and the
 * body it sends, with a resend for those no longer pending.
 */
export function DeliveryLog({ deliveries, next, paged, filtered }: { deliveries: DeliveryView[]; next: string | null; paged: boolean; filtered: boolean }) {
  if (deliveries.length === 0) {
    return (
      <div className="empty-state">
        <p className="muted">
          {filtered || paged
            ? "No delivery matches: try all apps, or go back to the newest."
            : "No deliveries yet. Alert rules that send here add one each time they fire or resolve; “Send test” adds a sample now."}
        </p>
        {paged ? <Pager paged next={null} /> : null}
      </div>
    );
  }
  return (
    <>
      <div className="delivery-row delivery-head" aria-hidden="true">
        <span>Event</span>
        <span>App</span>
        <span>Rule</span>
        <span>Status</span>
        <span className="num">Attempts</span>
        <span>Created (UTC)</span>
      </div>
      <ol className="deliveries">
        {deliveries.map((d) => (
          <li key={d.id} data-delivery={d.id}>
            <details>
              <summary className="delivery-row">
                <span>
                  <code>{d.eventType}</code>
                </span>
                <span>{d.appName}</span>
                <span>
                  <Rule d={d} />
                </span>
                <Status d={d} />
                <span className="num">{d.attempts}</span>
                <span className="nowrap">{utcTime(d.createdAt).slice(0, 19)}</span>
              </summary>
              <div className="delivery-body">
                <p className="small muted">
                  Delivery <code>{d.id}</code>: the <code>webhook-id</code> of every attempt, so receivers can drop repeats.
                </p>
                <h3>Attempts, newest first</h3>
                <Attempts attempts={d.attemptLog} />
                <h3>Body</h3>
                <pre className="payload">{pretty(d.payload)}</pre>
                {d.status !== "pending" ? (
                  <IntentForm intent="resend" label="Resend" title={`Resend ${d.id}`}>
                    <input type="hidden" name="deliveryId" value={d.id} />
                  </IntentForm>
                ) : null}
              </div>
            </details>
          </li>
        ))}
      </ol>
      <Pager paged={paged} next={next} />
    </>
  );
}
