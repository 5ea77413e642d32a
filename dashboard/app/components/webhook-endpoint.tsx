import { Form } from "@remix-run/react";
import { CsrfField } from "./csrf";
import { utcMinute } from "./format";

/** What the endpoint pages show of an endpoint: never its secret. */
export interface EndpointView {
  id: string;
  url: string;
  description: string;
  format: "standard" | "slack";
  enabled: boolean;
  disabledReason: string | null;
  failingSince: number | null;
  createdAt: number;
}

export const FORMAT_LABELS: Readonly<Record<EndpointView["format"], string>> = {
  standard: "Standard (versioned JSON)",
  slack: "Slack (incoming webhook)",
};

/** The fields of the create and edit forms, as typed. */
export interface EndpointFields {
  url: string;
  description: string;
  format: string;
}

/** Enabled, turned off by hand, or turned off by the platform for failing: the last stands out, with since when. */
export function EndpointState({ endpoint }: { endpoint: EndpointView }) {
  const since = endpoint.failingSince === null ? null : utcMinute(endpoint.failingSince);
  if (!endpoint.enabled && endpoint.disabledReason) {
    return (
      <span className="endpoint-state failing" data-state="failing">
        <span className="badge state-failed">turned off</span> {endpoint.disabledReason}
        {since ? <span className="small"> (failing since {since} UTC)</span> : null}
      </span>
    );
  }
  if (!endpoint.enabled) {
    return (
      <span className="endpoint-state" data-state="off">
        <span className="badge state-off">turned off</span> by hand
      </span>
    );
  }
  return (
    <span className="endpoint-state" data-state="enabled">
      <span className="badge state-delivered">enabled</span>
      {since ? <span className="small error"> every delivery failing since {since} UTC</span> : null}
    </span>
  );
}

/** URL, description and format; `values` fills them (the endpoint, or what was typed before an error). */
export function EndpointFormFields({ values }: { values: EndpointFields }) {
  return (
    <>
      <label>
        URL
        <input name="url" type="url" className="wide" required maxLength={2048} defaultValue={values.url} placeholder="https://hooks.example.com/alerts" />
      </label>
      <label>
        Description
        <input name="description" maxLength={500} defaultValue={values.description} placeholder="on-call pager" />
      </label>
      <label>
        Format
        <select name="format" defaultValue={values.format}>
          {Object.entries(FORMAT_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}

/** A form for an endpoint's fields posting `intent`, with its error beside it; a new `formKey` empties it. */
export function EndpointForm({ intent, label, values, error, formKey }: { intent: string; label: string; values: EndpointFields; error: string | null; formKey: string }) {
  return (
    <Form key={formKey} method="post" className="endpoint-form" aria-label={label}>
      <CsrfField />
      <input type="hidden" name="intent" value={intent} />
      <EndpointFormFields values={values} />
      <button type="submit">{label}</button>
      {error ? (
        <p className="error endpoint-form-error" role="alert">
          {error}
        </p>
      ) : null}
    </Form>
  );
}

/** A secret shown this once, with how to keep it and how receivers check it. */
export function NewSecret({ message, secret }: { message: string; secret: string }) {
  return (
    <div className="card notice" role="status" aria-label="New secret">
      <p>{message}</p>
      <code className="new-key" data-secret>
        {secret}
      </code>
      <p className="small muted">
        Copy it now (one click selects it): it is not shown again. Receivers check each request with any Standard Webhooks library, e.g.{" "}
        <code>new Webhook(secret).verify(body, headers)</code> from the <code>standardwebhooks</code> package.
      </p>
    </div>
  );
}
