// App versions and ranges for the `semver` flag condition, with node-semver's ranges
// (https://github.com/npm/node-semver: `^2.4`, `~1.2.3`, `2.x`, `>=2.1.0 <3`, `1.2.3 - 2.0.0`,
// `||`), pre-releases included: a pre-release is an ordinary version that orders below its
// release, so `<3.0.0` admits `3.0.0-beta` and `2.x` (which ends at `3.0.0-0`) does not. Apps
// often report `2.4` or `7`, which read as `2.4.0` and `7.0.0`; anything else that is not a
// version (`latest`, `1.2.3.4`) never matches.
import Range from "semver/classes/range";
import SemVer from "semver/classes/semver";

const OPTIONS = { includePrerelease: true } as const;
// Apps often leave out the minor and patch; node-semver's own coercion would also accept
// `1.2.3.4` and `v1 beta`, which should match nothing rather than something.
const VERSION_RE = /^[vV=]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** A version, or null when it does not parse: `parseVersion("2.4")?.version === "2.4.0"`. */
export function parseVersion(text: string): SemVer | null {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return null;
  try {
    return new SemVer(`${m[1] ?? "0"}.${m[2] ?? "0"}.${m[3] ?? "0"}${m[4] ?? ""}`, OPTIONS);
  } catch {
    return null;
  }
}

/** A range, or null when it does not parse (such a range matches no version). */
export function parseRange(text: string): Range | null {
  try {
    return new Range(text, OPTIONS);
  } catch {
    return null;
  }
}

// Flags name a handful of ranges and are evaluated for every caller: parse each once per isolate.
const ranges = new Map<string, Range | null>();
const RANGE_CACHE_MAX = 1000;
let lastVersionText: string | undefined;
// The normalized text, not the SemVer: a bundler may give Range its own copy of the SemVer class,
// and Range takes a version of another copy for a string it cannot read.
let lastVersion: string | null = null;

/** Whether `version` satisfies `range`; false when either does not parse. */
export function satisfies(version: string, range: string): boolean {
  let r = ranges.get(range);
  if (r === undefined) {
    r = parseRange(range);
    if (ranges.size >= RANGE_CACHE_MAX) ranges.clear();
    ranges.set(range, r);
  }
  if (r === null) return false;
  // One caller's version is tested by many flags in a row.
  if (version !== lastVersionText) {
    lastVersionText = version;
    lastVersion = parseVersion(version)?.version ?? null;
  }
  if (lastVersion === null) return false;
  try {
    return r.test(lastVersion);
  } catch {
    return false;
  }
}
