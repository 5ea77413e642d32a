import type { SerializeFrom } from "@remix-run/cloudflare";
import { Link } from "@remix-run/react";
import type { ReactNode } from "react";
import type { Card } from "../../insights/cards.server";
import { INSIGHT_LABELS } from "../../insights/saved";
import { FunnelsView } from "./funnels-view";
import { PathsView } from "./paths-view";
import { RetentionView } from "./retention-view";
import { StickinessView } from "./stickiness-view";
import { TrendsView } from "./trends-view";

export type CardData = SerializeFrom<Card>;

/** `10:42:07 UTC`. */
const clock = (ms: number): string => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

/** The insight's compact view, by its type. */
function View({ data, appId }: { data: NonNullable<CardData["data"]>; appId: string }): ReactNode {
  switch (data.type) {
    case "trends":
      return <TrendsView result={data.result} display={data.def.display} compact />;
    case "stickiness":
      return <StickinessView result={data.result} compact />;
    case "retention":
      return <RetentionView result={data.result} period={data.def.period} tz={data.def.tz} compact />;
    case "funnels":
      return <FunnelsView def={data.def} result={data.result} appId={appId} compact />;
    case "paths":
      return <PathsView result={data.result} compact />;
  }
}

/** A saved insight on a dashboard: its name (to its full page), app and kind, then its result, why there is none, or that it is being computed. */
export function InsightCard({ card, actions }: { card: CardData; actions?: ReactNode }) {
  const { insight } = card;
  return (
    <section className={`card insight-card w${card.w}`} aria-label={insight.name} data-card={insight.id} aria-busy={card.refreshing || undefined} data-refreshing={card.refreshing || undefined}>
      <header className="insight-card-head">
        <div>
          <h2>
            <Link to={card.href}>{insight.name}</Link>
          </h2>
          <p className="small muted">
            {INSIGHT_LABELS[insight.type]} · {insight.appName}
            {card.at !== null ? ` · as of ${clock(card.at)}` : ""}
            {card.refreshing && card.data ? " · refreshing…" : ""}
          </p>
          {insight.description ? <p className="small">{insight.description}</p> : null}
        </div>
        {actions}
      </header>
      {card.problems.length > 0 ? <p className="small muted">{card.problems.join(" ")}</p> : null}
      {card.data ? (
        <View data={card.data} appId={insight.appId} />
      ) : card.error !== null ? (
        <div className="error-card insight-card-error" role="alert">
          <p>{card.error}</p>
        </div>
      ) : (
        <p className="insight-card-computing muted" role="status">
          Computing…
        </p>
      )}
    </section>
  );
}
