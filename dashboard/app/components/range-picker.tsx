import { Link, useSearchParams } from "@remix-run/react";
import { RANGES, type RangeKey } from "../queries/range";

/** The time range lives in the URL (`?range=7d`), so every view can be shared and reloaded. */
export function RangePicker({ current }: { current: RangeKey }) {
  const [params] = useSearchParams();
  return (
    <nav className="range" aria-label="Time range">
      {(Object.keys(RANGES) as RangeKey[]).map((key) => {
        const next = new URLSearchParams(params);
        next.set("range", key);
        return (
          <Link key={key} to={`?${next.toString()}`} aria-current={key === current ? "page" : undefined} className={key === current ? "active" : ""}>
            {key}
          </Link>
        );
      })}
    </nav>
  );
}
