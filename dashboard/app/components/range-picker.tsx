import { Form, Link, useSearchParams } from "@remix-run/react";
import { MAX_CUSTOM_DAYS, RANGES, type RangeKey, type TimeRange } from "../queries/range";

/**
 * The time range lives in the URL (`?range=7d`, or `?range=custom&from=2026-11-01&to=2026-11-15`),
 * so every view can be shared and reloaded. Custom days are picked in a plain GET form that
 * carries the view's other parameters along; `days={false}` offers the presets alone.
 */
export function RangePicker({ current, days = true }: { current: TimeRange["key"]; days?: boolean }) {
  const [params] = useSearchParams();
  const custom = current === "custom";
  const kept = [...params].filter(([k]) => k !== "range" && k !== "from" && k !== "to");
  return (
    <nav className="range" aria-label="Time range">
      {(Object.keys(RANGES) as RangeKey[]).map((key) => {
        const next = new URLSearchParams(params);
        next.set("range", key);
        next.delete("from");
        next.delete("to");
        return (
          <Link key={key} to={`?${next.toString()}`} aria-current={key === current ? "page" : undefined} className={key === current ? "active" : ""}>
            {key}
          </Link>
        );
      })}
      {days ? (
        <details className="range-custom">
          <summary className={custom ? "active" : ""} aria-current={custom ? "page" : undefined}>
            {custom ? `${params.get("from") ?? ""} – ${params.get("to") ?? ""}` : "Custom"}
          </summary>
          <Form method="get" className="range-custom-form">
            {kept.map(([k, v], i) => (
              <input key={`${k}-${i}`} type="hidden" name={k} value={v} />
            ))}
            <input type="hidden" name="range" value="custom" />
            <label>
              From <input type="date" name="from" required defaultValue={custom ? params.get("from") ?? "" : ""} />
            </label>
            <label>
              To <input type="date" name="to" required defaultValue={custom ? params.get("to") ?? "" : ""} />
            </label>
            <button type="submit" title={`Whole days, both included, up to ${MAX_CUSTOM_DAYS}`}>
              Apply
            </button>
          </Form>
        </details>
      ) : null}
    </nav>
  );
}

/** The range as hidden fields of a GET form, so submitting the form keeps it. */
export function RangeFields({ range }: { range: Pick<TimeRange, "key" | "days"> }) {
  return (
    <>
      <input type="hidden" name="range" value={range.key} />
      {range.key === "custom" && range.days ? (
        <>
          <input type="hidden" name="from" value={range.days.from} />
          <input type="hidden" name="to" value={range.days.to} />
        </>
      ) : null}
    </>
  );
}
