// Each insight type's module as dashboards use it: parse a saved definition (its query string),
// write it back canonically (the cache key), and run it for an app.
import type { DashboardEnv } from "../env.server";
import { parseFunnels, runFunnels, toFunnelsSearch } from "./funnels.server";
import { parsePaths, runPaths, toPathsSearch } from "./paths.server";
import { parseStickiness, runStickiness, toStickinessSearch } from "./stickiness.server";
import { parseRetention, runRetention, toRetentionSearch } from "./retention.server";
import type { InsightType } from "./saved";
import { parseTrends, toTrendsSearch } from "./trends";
import { runTrends } from "./trends.server";

interface InsightModule<D, R> {
  parse(url: URL, now?: number): D;
  run(cfg: DashboardEnv["clickhouse"], appId: string, def: D): Promise<R>;
  toSearch(def: D): string;
}

/** A definition parsed and ready to run: its canonical query string and what it ignored. */
export interface Prepared<T extends InsightType, D, R> {
  search: string;
  problems: string[];
  run(cfg: DashboardEnv["clickhouse"], appId: string): Promise<{ type: T; def: D; result: R }>;
}

function module<T extends InsightType, D extends { problems: string[] }, R>(type: T, m: InsightModule<D, R>) {
  return {
    prepare(query: string, now: number): Prepared<T, D, R> {
      const def = m.parse(new URL(`http://x/?${query.replace(/^\?/, "")}`), now);
      return { search: m.toSearch(def), problems: def.problems, run: async (cfg, appId) => ({ type, def, result: await m.run(cfg, appId, def) }) };
    },
  };
}

const KNOWN = {
  trends: module("trends", { parse: parseTrends, run: runTrends, toSearch: toTrendsSearch }),
  funnels: module("funnels", { parse: parseFunnels, run: runFunnels, toSearch: toFunnelsSearch }),
  paths: module("paths", { parse: parsePaths, run: runPaths, toSearch: toPathsSearch }),
  stickiness: module("stickiness", { parse: parseStickiness, run: runStickiness, toSearch: toStickinessSearch }),
  retention: module("retention", { parse: parseRetention, run: runRetention, toSearch: toRetentionSearch }),
};
type Modules = typeof KNOWN;

/** A card's definition and result, by type: `{type: "trends", def, result}`. */
export type InsightResult = { [K in keyof Modules]: RunOut<Modules[K]> }[keyof Modules];
type RunOut<M> = M extends { prepare(query: string, now: number): { run(cfg: DashboardEnv["clickhouse"], appId: string): Promise<infer R> } } ? R : never;

/** Each type's module. */
export const INSIGHT_MODULES: Record<InsightType, { prepare(query: string, now: number): Omit<Prepared<InsightType, unknown, unknown>, "run"> & { run(cfg: DashboardEnv["clickhouse"], appId: string): Promise<InsightResult> } }> = KNOWN;
