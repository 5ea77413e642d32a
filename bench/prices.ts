// Every published price the cost benchmark multiplies by, with where and when it was read.
// List prices in USD, pay-as-you-go, beyond each plan's included usage (the Workers Paid plan's
// $5 a month and its allowances are left out: at the volumes compared they round to nothing).

/** One published price: `usd` per `per` units of `unit`. */
export interface Price {
  usd: number;
  per: number;
  unit: string;
  source: string;
  /** The day the figure was read from `source`. */
  read: string;
  note?: string;
}

const READ = "2026-12-01";
const WORKERS = "https://developers.cloudflare.com/workers/platform/pricing/";
const DO = "https://developers.cloudflare.com/durable-objects/platform/pricing/";
const QUEUES = "https://developers.cloudflare.com/queues/platform/pricing/";
const R2 = "https://developers.cloudflare.com/r2/pricing/";
const D1 = "https://developers.cloudflare.com/d1/platform/pricing/";

export const PRICES = {
  workerRequests: { usd: 0.3, per: 1e6, unit: "request", source: WORKERS, read: READ, note: "Standard usage model; inbound requests, including each queue consumer invocation; subrequests are not billed" },
  workerCpuMs: { usd: 0.02, per: 1e6, unit: "CPU ms", source: WORKERS, read: READ },
  doRequests: { usd: 0.15, per: 1e6, unit: "request", source: DO, read: READ, note: "every RPC method call on a stub is one request; alarm invocations count too" },
  doDurationGbS: { usd: 12.5, per: 1e6, unit: "GB-s", source: DO, read: READ, note: "wall-clock time while active, billed at 128 MB per object whatever it uses" },
  doRowsRead: {
    usd: 0.001,
    per: 1e6,
    unit: "row read",
    source: DO,
    read: READ,
    note: "the official page's storage table was not in the stored copy; the figure is the one the page's secondary copies (cf-trader-docs.pages.dev/cloudflare/pricing.html, oflight.co.jp 2026-07) and D1's own page give",
  },
  doRowsWritten: {
    usd: 1.0,
    per: 1e6,
    unit: "row written",
    source: DO,
    read: READ,
    note: "index writes count as rows written; secondary copies add that each setAlarm() is one row written, which the SQL cursor does not report (see DESIGN.md: about $1 per million)",
  },
  doStorageGbMonth: { usd: 0.2, per: 1, unit: "GB-month", source: DO, read: READ, note: "from the same secondary copies as the row prices; billed since 2026-01-07" },
  queueOperations: {
    usd: 0.4,
    per: 1e6,
    unit: "operation",
    source: QUEUES,
    read: READ,
    note: "one operation per 64 KB (64,000 bytes, with about 100 bytes of metadata per message) written, read or deleted; each retry is another read",
  },
  r2ClassA: { usd: 4.5, per: 1e6, unit: "operation", source: R2, read: READ, note: "PUT, POST, LIST" },
  r2ClassB: { usd: 0.36, per: 1e6, unit: "operation", source: R2, read: READ, note: "GET, HEAD" },
  r2StorageGbMonth: { usd: 0.015, per: 1, unit: "GB-month", source: R2, read: READ },
  d1RowsRead: { usd: 0.001, per: 1e6, unit: "row read", source: D1, read: READ },
  d1RowsWritten: { usd: 1.0, per: 1e6, unit: "row written", source: D1, read: READ },
  d1StorageGbMonth: { usd: 0.75, per: 1, unit: "GB-month", source: D1, read: READ },
  clickhouseStorageTbMonth: {
    usd: 25.3,
    per: 1,
    unit: "TB-month of compressed data",
    source: "https://clickhouse.com/docs/cloud/manage/billing/overview",
    read: READ,
    note: "AWS us-east-1: the Basic example's 500 GB of data plus 500 GB of backup cost $25.30 a month; a backup of each TB costs as much again",
  },
  clickhouseComputeVcpuHour: {
    usd: 436.95 / (2 * 2 * 730),
    per: 1,
    unit: "vCPU-hour",
    source: "https://clickhouse.com/docs/cloud/manage/billing/overview",
    read: READ,
    note: "AWS us-east-1 Scale tier: 2 replicas × 2 vCPU (8 GiB) always on for $436.95 a month, so about $0.15 per vCPU-hour; a Scale service keeps at least 2 replicas, so each vCPU of work is paid twice",
  },
} as const satisfies Record<string, Price>;

/** What the hosted products charge per million events, for comparison. */
export const VENDORS = {
  posthog: {
    usdPerMillion: { from: 50, to: 9 },
    source: "https://posthog.com/pricing",
    read: READ,
    note: "product analytics, per event after the first million a month: $0.00005 (1–2 M) stepping down to $0.000009 (250 M+); read through flexprice.io/blog/posthog-pricing-guide, which quotes the page's tiers",
  },
  segment: {
    usdPerMillion: { from: 48, to: 40 },
    source: "https://segment.com/pricing/",
    read: READ,
    note: "Team plan: $120 a month for 10,000 MTUs, then $0.012–0.010 per MTU, each MTU allowing 250 API calls a month (segment.com/docs/guides/usage-and-billing/mtus-and-throughput); per million events at that full throughput: $48 down to $40. Read through Lago's published copy of the plan (getlago.com/docs/templates/hybrid/segment)",
  },
} as const;
