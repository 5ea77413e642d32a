import { Link, useFetcher, useLocation } from "@remix-run/react";
import { can, isRole } from "../../auth/permissions";
import type { InsightType } from "../../insights/saved";
import { CsrfField } from "../csrf";

/** What the save route answers: the saved insight, or what is wrong with the form. */
export type SaveInsightResult = { ok: true; id: string; name: string } | { ok: false; error: string };

/**
 * Saves the insight the page shows (its URL's query string) under a name, for the organisation's
 * dashboards. Shown only to those who may save insights.
 */
export function SaveInsight({ type, appId, viewer }: { type: InsightType; appId: string; viewer: { role: string } }) {
  const fetcher = useFetcher<SaveInsightResult>();
  const { search } = useLocation();
  if (!isRole(viewer.role) || !can(viewer.role, "insight:update")) return null;
  const result = fetcher.data;
  return (
    <details className="card save-insight">
      <summary>Save this insight</summary>
      <fetcher.Form method="post" action="/insights/save" className="inline-form" aria-label="Save insight" key={result?.ok ? result.id : "form"}>
        <CsrfField />
        <input type="hidden" name="intent" value="save" />
        <input type="hidden" name="type" value={type} />
        <input type="hidden" name="appId" value={appId} />
        <input type="hidden" name="query" value={search.replace(/^\?/, "")} />
        <label>
          Name
          <input name="name" required maxLength={200} />
        </label>
        <label>
          Description
          <input name="description" maxLength={1000} size={40} />
        </label>
        <button type="submit" disabled={fetcher.state !== "idle"}>
          Save
        </button>
      </fetcher.Form>
      {result?.ok ? (
        <p role="status">
          Saved as <Link to={`/dashboards/insights/${result.id}`}>{result.name}</Link>: add it to a dashboard from <Link to="/dashboards">Dashboards</Link>.
        </p>
      ) : result ? (
        <p className="error" role="alert">
          {result.error}
        </p>
      ) : null}
    </details>
  );
}
