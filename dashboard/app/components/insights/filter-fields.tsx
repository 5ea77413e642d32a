// The fields every insight's form shares, under the URL names every insight reads: filters
// (platform, country, release, up to one new `prop` beside the ones the URL has) and the time
// zone. They render inside the insight's own GET form, so submitting it rewrites the URL.
import type { InsightFilters } from "../../insights/filters";
import type { InsightOptions } from "../../insights/options.server";
import { ValueMenu } from "../dim-filter";

/** Common IANA zones offered first; any other name may be typed. */
const ZONES = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"];

export function FilterFields({ filters, tz, options }: { filters: InsightFilters; tz?: string; options: InsightOptions | null }) {
  return (
    <>
      <ValueMenu name="platform" label="Platform" value={filters.platform} values={options?.platforms ?? []} />
      <ValueMenu name="country" label="Country" value={filters.country} values={options?.countries ?? []} />
      <ValueMenu name="release" label="Release" value={filters.release} values={options?.releases ?? []} />
      {[...filters.props, { key: "", value: "" }].map((p, i) => (
        <label key={`${i}-${p.key}`}>
          Property
          <input name="prop" defaultValue={p.key ? `${p.key}:${p.value}` : ""} placeholder="key:value" />
        </label>
      ))}
      {tz === undefined ? null : (
        <label>
          Time zone
          <input name="tz" defaultValue={tz} key={tz} list="insight-zones" />
          <datalist id="insight-zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </label>
      )}
    </>
  );
}

/** The app's event names, for inputs with `list="insight-events"`. */
export function EventList({ events }: { events: readonly string[] }) {
  return (
    <datalist id="insight-events">
      {events.map((e) => (
        <option key={e} value={e} />
      ))}
    </datalist>
  );
}

/** What the URL asked for that the insight ignored, in words. */
export function Problems({ problems }: { problems: readonly string[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="card" role="status" aria-label="Ignored">
      {problems.map((p) => (
        <p key={p} className="muted small" style={{ margin: 0 }}>
          {p}
        </p>
      ))}
    </div>
  );
}

/** A choice of the form: `options` as [value, label] pairs, or values that are their own labels. */
export function Choice<T extends string | number>({ label, name, value, options }: { label: string; name: string; value: T; options: ReadonlyArray<T | readonly [T, string]> }) {
  return (
    <label>
      {label}
      {/* Keyed by the value, so a new URL's definition resets the field after client navigation. */}
      <select name={name} defaultValue={value} key={`${name}-${value}`}>
        {options.map((o) => {
          const [v, text] = Array.isArray(o) ? o : [o, String(o)];
          return (
            <option key={v} value={v}>
              {text}
            </option>
          );
        })}
      </select>
    </label>
  );
}
