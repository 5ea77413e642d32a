// What the paths insight's server and views share: its kinds of step, limits and result shape.

export const PATH_KINDS = { pages: "Pages", screens: "Screens", events: "Events" } as const;
export type PathKind = keyof typeof PATH_KINDS;

export const MIN_DEPTH = 2;
export const MAX_DEPTH = 5;
export const DEFAULT_TOP = 10;
export const MAX_TOP = 50;
/** Nodes a column of the chart shows; the rest are folded into "other". */
export const NODES_PER_STEP = 8;

export interface RankedPath {
  steps: string[];
  people: number;
  /** Of everyone with a path. */
  share: number;
}

export interface PathNode {
  /** 0-based column. */
  step: number;
  /** The step's name; OTHER for the column's folded rest. */
  label: string;
  people: number;
  /** People whose path stops here. */
  ended: number;
}

export interface PathLink {
  step: number;
  from: string;
  to: string;
  people: number;
}

export interface PathsResult {
  /** People with a path. */
  people: number;
  /** The steps a path may have; a shorter one is a sequence that ended sooner. */
  depth: number;
  /** The top paths, most people first, then everyone else's as one share. */
  paths: RankedPath[];
  other: { people: number; paths: number };
  nodes: PathNode[];
  links: PathLink[];
}

/** The label of a column's folded nodes. */
export const OTHER = "\u0000other";

