// Webhook URLs are typed by customers and fetched by the platform: without this check an
// endpoint could make the Worker call private networks or a cloud metadata service (SSRF).
// Host names cannot be resolved here, so names are judged by their suffix and IP literals by
// their range; the URL parser has already turned decimal, octal and hex IPv4 spellings into
// dotted quads and IPv4-in-IPv6 into hex groups, which is why only canonical forms are parsed.

/** A URL fit to be fetched, or why not. */
export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** `localMode` lets development and tests deliver to `http://127.0.0.1:<port>` or `http://localhost:<port>`. */
export interface UrlGuardOptions {
  localMode?: boolean;
}

// [first address, prefix length, name] for IPv4 ranges that never belong to a public receiver.
const V4_BLOCKED: ReadonlyArray<readonly [string, number, string]> = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

const BLOCKED_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"]);
const BLOCKED_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp"];

function v4ToInt(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function v4Range(n: number): string | null {
  for (const [first, bits, name] of V4_BLOCKED) {
    const base = v4ToInt(first) ?? 0;
    const size = 2 ** (32 - bits);
    if (n >= base && n < base + size) return name;
  }
  return n === 0xffffffff ? "broadcast" : null;
}

// Eight 16-bit groups of a canonical IPv6 literal (brackets removed), or null.
function v6Groups(host: string): number[] | null {
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === "") return [];
    const groups = s.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? "");
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return null;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

function v6Range(g: number[]): string | null {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, h = 0, i = 0] = g;
  const embedded = (hi: number, lo: number): string | null => {
    const r = v4Range(hi * 65536 + lo);
    return r ? `IPv4 ${r}` : null;
  };
  if (g.every((x) => x === 0)) return "unspecified";
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && h === 0 && i === 1) return "loopback";
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible) and 64:ff9b::a.b.c.d (NAT64) reach the IPv4 inside
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && (f === 0xffff || f === 0)) return embedded(h, i) ?? (f === 0 ? "IPv4-compatible" : null);
  // ::ffff:0:a.b.c.d, the translated form of SIIT
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0xffff && f === 0) return embedded(h, i);
  if (a === 0x64 && b === 0xff9b) return embedded(h, i) ?? (c === 1 ? "NAT64 local-use" : null);
  // 6to4 carries an IPv4 in its second and third groups; Teredo hides one behind a relay
  if (a === 0x2002) return embedded(b, c);
  if (a === 0x2001 && b === 0) return "Teredo";
  if (a === 0x2001 && b === 0xdb8) return "documentation";
  if (a === 0x100 && b === 0 && c === 0 && d === 0) return "discard-only";
  if ((a & 0xfe00) === 0xfc00) return "unique-local";
  if ((a & 0xffc0) === 0xfe80) return "link-local";
  if ((a & 0xffc0) === 0xfec0) return "site-local";
  if ((a & 0xff00) === 0xff00) return "multicast";
  return null;
}

function isLocalReceiver(url: URL): boolean {
  return (url.protocol === "http:" || url.protocol === "https:") && (url.hostname === "127.0.0.1" || url.hostname === "localhost") && url.port !== "";
}

/**
 * Whether the platform may POST to `raw`: https only, no credentials in the URL, and no host that
 * names or is an address in a private, loopback, link-local, carrier-grade NAT, unique-local,
 * multicast, unspecified or metadata range. `checkWebhookUrl("https://10.0.0.1/x").reason`
 * says "10.0.0.1 is a private address".
 */
export function checkWebhookUrl(raw: string, options: UrlGuardOptions = {}): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (options.localMode && isLocalReceiver(url)) return { ok: true, url };
  if (url.protocol !== "https:") {
    const local = options.localMode ? " (local mode also allows http://127.0.0.1:<port> and http://localhost:<port>)" : "";
    return { ok: false, reason: `only https URLs are allowed, not ${url.protocol.replace(":", "")}${local}` };
  }
  if (url.username || url.password) return { ok: false, reason: "a webhook URL may not carry a user name or password" };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) {
    const groups = v6Groups(host.slice(1, -1));
    if (!groups) return { ok: false, reason: `${host} is not an IPv6 address this check understands` };
    const range = v6Range(groups);
    return range ? { ok: false, reason: `${host} is a ${range} address` } : { ok: true, url };
  }
  const v4 = v4ToInt(host);
  if (v4 !== null) {
    const range = v4Range(v4);
    return range ? { ok: false, reason: `${host} is a ${range} address` } : { ok: true, url };
  }
  if (/^[\d.]+$/.test(host)) return { ok: false, reason: `${host} is not a valid address` };
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s))) return { ok: false, reason: `${host} is a local or internal host name` };
  if (!host.includes(".")) return { ok: false, reason: `${host} is not a public host name (it has no domain)` };
  return { ok: true, url };
}
