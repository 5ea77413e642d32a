import { Link } from "@remix-run/react";
import type { TimelineEvent } from "../queries/sessions.server";
import { duration, utcTime } from "./format";

/** What one line of a timeline says about the event: its name, screen or page, or detail. */
function label(e: TimelineEvent): string {
  if (e.type === "track") return e.event || "(unnamed)";
  if (e.type === "page" || e.type === "screen") return e.path || "(no path)";
  if (e.type === "identify") return "identified, with traits";
  return e.detail || e.event || e.path || e.type;
}

interface Run {
  sessionId: string;
  events: TimelineEvent[];
}

/** Consecutive events of the same session, in the order given. */
function runs(events: readonly TimelineEvent[]): Run[] {
  const out: Run[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (last && last.sessionId === e.sessionId) last.events.push(e);
    else out.push({ sessionId: e.sessionId, events: [e] });
  }
  return out;
}

/**
 * Events grouped by session: a header per session (linking to it when it has an id) and a line
 * per event linking to the event's detail.
 */
export function Timeline({ appId, events, groupBySession = true }: { appId: string; events: readonly TimelineEvent[]; groupBySession?: boolean }) {
  const groups = groupBySession ? runs(events) : [{ sessionId: "", events: [...events] }];
  return (
    <div className="timeline">
      {groups.map((g, i) => {
        const times = g.events.map((e) => e.ts);
        const span = Math.max(...times) - Math.min(...times);
        return (
          <section key={`${g.sessionId}-${i}`} className="timeline-run" aria-label={g.sessionId ? `Session ${g.sessionId}` : "Events"}>
            {groupBySession ? (
              <h3>
                {g.sessionId ? (
                  <>
                    Session <Link to={`/apps/${appId}/sessions/${encodeURIComponent(g.sessionId)}`}>{g.sessionId}</Link>
                  </>
                ) : (
                  "Outside a session"
                )}
                <span className="muted small">
                  {" "}
                  · {g.events.length} events · {duration(span)}
                </span>
              </h3>
            ) : null}
            <ol>
              {g.events.map((e) => (
                <li key={e.messageId} className={`tl-${e.type}`}>
                  <time>{utcTime(e.ts)}</time>
                  <span className="badge">{e.type}</span>
                  <Link to={`/apps/${appId}/events/${encodeURIComponent(e.messageId)}`}>{label(e)}</Link>
                  <span className="muted small">{[e.platform, e.country].filter(Boolean).join(" · ")}</span>
                </li>
              ))}
            </ol>
          </section>
        );
      })}
    </div>
  );
}
