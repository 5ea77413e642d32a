// The paths insight: a Sankey-style chart drawn as SVG (a column per step, nodes sized by
// people, links between consecutive steps as bands of the same width), and the ranked paths
// with the people on each a link away.
import { Link } from "@remix-run/react";
import { OTHER, type PathLink, type PathNode, type PathsResult } from "../../insights/paths";
import { count, percent } from "../format";

const COLORS = ["#2563eb", "#059669", "#d97706", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
const GREY = "#94a3b8";
const NODE_W = 12;
const GAP = 10;
// The drawing's own units: a card's chart is drawn narrower so its labels keep a readable size.
const FULL = { width: 960, margin: 150, label: 26 };
const SMALL = { width: 520, margin: 92, label: 13 };
type Frame = typeof FULL;

const labelOf = (label: string): string => (label === OTHER ? "other" : label === "" ? "(none)" : label);
const short = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The same step keeps its colour in every column. */
function colorOf(label: string, palette: Map<string, string>): string {
  if (label === OTHER) return GREY;
  let c = palette.get(label);
  if (!c) {
    c = COLORS[palette.size % COLORS.length] ?? GREY;
    palette.set(label, c);
  }
  return c;
}

interface Placed extends PathNode {
  x: number;
  y: number;
  h: number;
  color: string;
}

function layout(nodes: readonly PathNode[], height: number, frame: Frame): { placed: Map<string, Placed>; scale: number; columns: number } {
  const columns = Math.max(1, ...nodes.map((n) => n.step + 1));
  const byStep = Array.from({ length: columns }, (_, s) => nodes.filter((n) => n.step === s));
  // One scale for every column, so a band keeps its width from node to node.
  const scale = Math.min(...byStep.map((col) => (height - GAP * Math.max(0, col.length - 1)) / Math.max(1, col.reduce((n, x) => n + x.people, 0))));
  const palette = new Map<string, string>();
  const placed = new Map<string, Placed>();
  const span = columns > 1 ? (frame.width - 2 * frame.margin - NODE_W) / (columns - 1) : 0;
  byStep.forEach((col, s) => {
    let y = 0;
    for (const n of col) {
      const h = Math.max(2, n.people * scale);
      placed.set(`${s}\u0001${n.label}`, { ...n, x: frame.margin + s * span, y, h, color: colorOf(n.label, palette) });
      y += h + GAP;
    }
  });
  return { placed, scale, columns };
}

/** The chart: nodes in columns, links as bands from one step to the next. */
export function PathsChart({ result, height = 360, compact = false }: { result: PathsResult; height?: number; compact?: boolean }) {
  const frame = compact ? SMALL : FULL;
  const { placed, scale, columns } = layout(result.nodes, height, frame);
  const outAt = new Map<string, number>();
  const inAt = new Map<string, number>();
  const bands = result.links.flatMap((l: PathLink) => {
    const a = placed.get(`${l.step}\u0001${l.from}`);
    const b = placed.get(`${l.step + 1}\u0001${l.to}`);
    if (!a || !b) return [];
    const w = Math.max(1, l.people * scale);
    const y0 = a.y + (outAt.get(`${l.step}\u0001${l.from}`) ?? 0) + w / 2;
    const y1 = b.y + (inAt.get(`${l.step + 1}\u0001${l.to}`) ?? 0) + w / 2;
    outAt.set(`${l.step}\u0001${l.from}`, (outAt.get(`${l.step}\u0001${l.from}`) ?? 0) + w);
    inAt.set(`${l.step + 1}\u0001${l.to}`, (inAt.get(`${l.step + 1}\u0001${l.to}`) ?? 0) + w);
    const x0 = a.x + NODE_W;
    const x1 = b.x;
    const mid = (x0 + x1) / 2;
    return [{ key: `${l.step} ${l.from} ${l.to}`, d: `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`, w, color: a.color, title: `${labelOf(l.from)} → ${labelOf(l.to)}: ${count(l.people)} people` }];
  });
  return (
    <svg viewBox={`-4 -4 ${frame.width + 8} ${height + 8}`} width="100%" role="img" aria-label={`Paths over ${columns} steps`} style={{ display: "block", maxHeight: height + 8, fontSize: 12 }}>
      {bands.map((b) => (
        <path key={b.key} d={b.d} fill="none" stroke={b.color} strokeOpacity={0.3} strokeWidth={b.w}>
          <title>{b.title}</title>
        </path>
      ))}
      {[...placed.values()].map((n) => {
        const last = n.step === columns - 1 && columns > 1;
        const name = labelOf(n.label);
        return (
          <g key={`${n.step} ${n.label}`} data-node={name}>
            <rect x={n.x} y={n.y} width={NODE_W} height={n.h} fill={n.color} rx={2}>
              <title>{`Step ${n.step + 1}: ${name}: ${count(n.people)} people${n.ended > 0 ? `, ${count(n.ended)} stop here` : ""}`}</title>
            </rect>
            <text x={last ? n.x + NODE_W + 6 : n.x - 6} y={n.y + n.h / 2} dominantBaseline="middle" textAnchor={last ? "start" : "end"} fill="#0f172a" stroke="#fff" strokeWidth={3} paintOrder="stroke">
              {short(name, frame.label)} <tspan fill="#64748b">{count(n.people)}</tspan>
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The ranked paths; `peopleLinks[i]` opens the users view on path i. */
export function RankedPaths({ result, peopleLinks, limit }: { result: PathsResult; peopleLinks?: readonly string[]; limit?: number }) {
  const rows = limit === undefined ? result.paths : result.paths.slice(0, limit);
  const max = Math.max(1, ...rows.map((r) => r.people));
  return (
    <table className="paths" aria-label="Top paths">
      <thead>
        <tr>
          <th>path</th>
          <th className="num">people</th>
          <th className="num">share</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((p, i) => {
          const link = peopleLinks?.[i];
          return (
            <tr key={p.steps.join("\u0001")}>
              <td style={{ position: "relative" }}>
                <span className="bar" style={{ width: `${(p.people / max) * 100}%` }} />
                <span className="bar-label">
                  {p.steps.map(labelOf).join(" → ")}
                  {p.steps.length < result.depth ? <span className="muted small"> · nothing after</span> : null}
                </span>
              </td>
              <td className="num">{link ? <Link to={link}>{count(p.people)}</Link> : count(p.people)}</td>
              <td className="num">{percent(p.share)}</td>
            </tr>
          );
        })}
        {result.other.people > 0 && limit === undefined ? (
          <tr>
            <td className="muted">
              {count(result.other.paths)}
              {result.other.paths >= 500 ? "+" : ""} other paths
            </td>
            <td className="num">{count(result.other.people)}</td>
            <td className="num">{percent(result.people > 0 ? result.other.people / result.people : 0)}</td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

/** A paths result: the chart over the ranked paths; `compact` (a dashboard card) shows a shorter chart and the top five. */
export function PathsView({ result, peopleLinks, compact = false }: { result: PathsResult; peopleLinks?: readonly string[]; compact?: boolean }) {
  if (result.people === 0) {
    return (
      <div className="empty-state">
        <p className="muted">No one in this range took a path that matches.</p>
      </div>
    );
  }
  return (
    <div className="paths-view">
      <PathsChart result={result} height={compact ? 240 : 360} compact={compact} />
      <RankedPaths result={result} {...(peopleLinks ? { peopleLinks } : {})} {...(compact ? { limit: 5 } : {})} />
    </div>
  );
}
