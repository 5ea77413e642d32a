import { LIMITS } from "../../schemas";

// ClickHouse DateTime64 and monthly partitions make anything before this a client bug.
const EARLIEST_MS = Date.UTC(2000, 0, 1);
// The last moment every ClickHouse version stores in DateTime64 (its documented range).
const LATEST_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/** Parses ISO-8601 text or epoch milliseconds; `null` when it is not a usable time. */
export function parseTime(value: string | number | undefined): number | null {
  if (value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) && value >= EARLIEST_MS ? value : null;
  // The edge checks an event's time and then corrects it: the second reading is answered from memory.
  if (value === lastText) return lastParsed;
  const ms = isoMillis(value) ?? Date.parse(value);
  lastText = value;
  lastParsed = Number.isFinite(ms) && ms >= EARLIEST_MS ? ms : null;
  return lastParsed;
}

let lastText = "";
let lastParsed: number | null = null;

// Where `2026-11-22T10:00:00.123Z`, the form every SDK sends, has its digits.
const ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const ISO_MARKS: ReadonlyArray<[number, number]> = [[4, 45], [7, 45], [10, 84], [13, 58], [16, 58], [19, 46], [23, 90]];

/**
 * `Date.parse` of a UTC time in exactly that form, read from its digits several times faster;
 * `undefined` for anything else, which `Date.parse` reads. Days past the 28th go to `Date.parse`
 * too, so no month's length is assumed here.
 */
function isoMillis(s: string): number | undefined {
  if (s.length !== 24) return undefined;
  for (const [at, code] of ISO_MARKS) if (s.charCodeAt(at) !== code) return undefined;
  for (const at of ISO_DIGITS) {
    const c = s.charCodeAt(at);
    if (c < 48 || c > 57) return undefined;
  }
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 7);
  const day = digitsAt(s, 8, 10);
  const hour = digitsAt(s, 11, 13);
  const minute = digitsAt(s, 14, 16);
  const second = digitsAt(s, 17, 19);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 28 || hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, digitsAt(s, 20, 23));
}

function digitsAt(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
}

/** The event time after skew correction, and the time the client claimed. */
export interface CorrectedTime {
  timestamp: number;
  original: number;
}

/**
 * Corrects a client clock the way Segment and PostHog do: when the device's `sentAt` differs
 * from our receive time by more than the deadband, shift the event by that difference
 * (`timestamp = receivedAt − (sentAt − timestamp)`); a time still far in the future is clamped.
 */
export function correctTime(timestamp: number | null, sentAt: number | null, receivedAt: number): CorrectedTime {
  const original = timestamp ?? receivedAt;
  let corrected = original;
  if (timestamp !== null && sentAt !== null && Math.abs(receivedAt - sentAt) > LIMITS.skewDeadbandMs) {
    corrected = receivedAt - (sentAt - timestamp);
  }
  if (corrected - receivedAt > LIMITS.maxFutureMs) corrected = receivedAt;
  if (corrected < EARLIEST_MS) corrected = original;
  return { timestamp: corrected, original };
}

/** Formats epoch milliseconds as ClickHouse `DateTime64(3)` text in UTC: `2026-11-22 10:00:00.123`. */
export function toClickHouseTime(time: number): string {
  // A client may claim any time: past the year 9999 the ISO text changes shape, and ClickHouse
  // refuses the whole insert. The original and sent times keep the latest every version stores.
  const ms = time > LATEST_MS ? LATEST_MS : time;
  // A batch formats the same receive and send times for every event: remember the last few.
  const slot = ms & (TIME_MEMO_SIZE - 1);
  if (memoMs[slot] === ms) return memoText[slot] ?? "";
  const text = Number.isSafeInteger(ms) && ms >= 0 ? formatTime(ms) : new Date(ms).toISOString().replace("T", " ").slice(0, 23);
  memoMs[slot] = ms;
  memoText[slot] = text;
  return text;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
let memoDay = -1;
let memoDate = "";

// Every event has its own time, but a batch's fall on one or two days: the date is formatted by
// `Date` once per day and the time of day from digit tables, several times cheaper per event.
function formatTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== memoDay) {
    memoDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
    memoDay = day;
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${memoDate} ${TWO_DIGITS[h] ?? ""}:${TWO_DIGITS[m] ?? ""}:${TWO_DIGITS[s] ?? ""}.${THREE_DIGITS[rest - s * 1000] ?? ""}`;
}

const TIME_MEMO_SIZE = 16;
const memoMs = new Float64Array(TIME_MEMO_SIZE).fill(-1);
const memoText: string[] = new Array<string>(TIME_MEMO_SIZE).fill("");
