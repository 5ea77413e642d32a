import { z } from "zod";

/** The five attribution models, in the order the report shows them. */
export const ATTRIBUTION_MODELS = ["first", "last", "linear", "decay", "position"] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];

export const MODEL_NAMES: Record<AttributionModel, string> = {
  first: "First touch",
  last: "Last touch",
  linear: "Linear",
  decay: "Time decay",
  position: "Position-based",
};

const Name = z.string().trim().min(1, "a name is needed").max(80);
const PropKey = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\s]+$/, "a property name has no spaces");

/**
 * One conversion an app counts: an event (by name), optionally only when a property equals a
 * value, with its revenue read from a numeric property and its currency from a property or a
 * fixed code. `once`: only a person's first such event counts (installs, sign-ups).
 */
export const Conversion = z.object({
  id: z
    .string()
    .trim()
    .regex(/^[a-z0-9_-]{1,40}$/, "an id is 1 to 40 lowercase letters, digits, - or _"),
  name: Name,
  event: z.string().trim().min(1, "the event's name is needed").max(200),
  where: z.object({ prop: PropKey, equals: z.string().max(200) }).optional(),
  revenueProp: PropKey.optional(),
  currencyProp: PropKey.optional(),
  /** ISO 4217 code used when the event carries none. */
  currency: z
    .string()
    .trim()
    .regex(/^[A-Z]{3}$/, "a currency is a three-letter code such as USD")
    .optional(),
  once: z.boolean(),
});
export type Conversion = z.infer<typeof Conversion>;

export const MAX_CONVERSIONS = 20;

/** An app's attribution settings: what converts, the lookback windows and the time-decay half-life. */
export const AttributionSettings = z
  .object({
    conversions: z.array(Conversion).min(1, "at least one conversion is needed").max(MAX_CONVERSIONS),
    /** How long before a conversion a click still counts, in days. */
    clickWindowDays: z.number().int().min(1).max(90),
    /** How long before a conversion an impression still counts, in hours (only when no click does). */
    viewWindowHours: z.number().int().min(1).max(24 * 30),
    /** Time decay: a touch this many days older than another gets half its weight. */
    halfLifeDays: z.number().min(0.5).max(90),
  })
  .refine((s) => new Set(s.conversions.map((c) => c.id)).size === s.conversions.length, { message: "two conversions share an id", path: ["conversions"] });
export type AttributionSettings = z.infer<typeof AttributionSettings>;

/** What an app without settings of its own counts: Segment's spec names for installs, sign-ups and orders. */
export const DEFAULT_ATTRIBUTION: AttributionSettings = {
  conversions: [
    { id: "install", name: "Installs", event: "Application Installed", once: true },
    { id: "signup", name: "Sign-ups", event: "Signed Up", once: true },
    { id: "purchase", name: "Purchases", event: "Order Completed", revenueProp: "revenue", currencyProp: "currency", currency: "USD", once: false },
  ],
  clickWindowDays: 7,
  viewWindowHours: 24,
  halfLifeDays: 7,
};
