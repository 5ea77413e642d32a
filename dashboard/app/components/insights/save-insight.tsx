import { Link, useFetcher, useLocation } from "@remix-run/react";
import { can, isRole } from "../../auth/permissions";
import { definitionOf, type InsightType } from "../../insights/saved";
import { CsrfField } from "../csrf";

/** What the save route answers: the saved insight, or what is wrong with the form. */
export type SaveInsightResult = { ok: true; id: string; name: string; replaced?: boolean } | { ok: false; error: string };

/** The saved insight a page was opened from (the loader's `saved`). */
export interface SavedFrom {
  id: string;
  name: string;
  type: InsightType;
}

/**
 * Saves the insight the page shows (its URL's query string) under a name, for the organisation's
 * dashboards, or, opened from a saved insight of this kind, updates that one in place (its
 * dashboards' cards follow). Shown only to those who may save insights.
 */
export function SaveInsight({ type, appId, viewer, saved = null }: { type: InsightType; appId: string; viewer: { role: string }; saved?: SavedFrom | null }) {
  const fetcher = useFetcher<SaveInsightResult>();
  const { search } = useLocation();
  if (!isRole(viewer.role) || !can(viewer.role, "insight:update")) return null;
  const result = fetcher.data;
  const query = definitionOf(search);
  const from = saved && saved.type === type ? saved : null;
  return (
    <details className="card save-insight" open={from !== null}>
      <summary>{from ? `Saved as “${from.name}”` : "Save this insight"}</summary>
      {from ? (
        <fetcher.Form method="post" action="/insights/save" className="inline-form" aria-label="Update saved insight">
          <CsrfField />
          <input type="hidden" name="intent" value="replace" />
          <input type="hidden" name="insightId" value={from.id} />
          <input type="hidden" name="type" value={type} />
          <input type="hidden" name="appId" value={appId} />
          <input type="hidden" name="query" value={query} />
          <button type="submit" disabled={fetcher.state !== "idle"}>
            Update “{from.name}” to this definition
          </button>
          <span className="muted small">or save it as a new insight:</span>
        </fetcher.Form>
      ) : null}
      <fetcher.Form method="post" action="/insights/save" className="inline-form" aria-label="Save insight" key={result?.ok ? result.id : "form"}>
        <CsrfField />
        <input type="hidden" name="intent" value="save" />
        <input type="hidden" name="type" value={type} />
        <input type="hidden" name="appId" value={appId} />
        <input type="hidden" name="query" value={query} />
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
      {result?.ok && result.replaced ? (
        <p role="status">
          Updated <Link to={`/dashboards/insights/${result.id}`}>{result.name}</Link>: its cards on dashboards show this definition now.
        </p>
      ) : result?.ok ? (
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
