-- An app's attribution settings (schemas/attribution.ts AttributionSettings) as JSON: its
-- conversions, lookback windows and time-decay half-life. NULL means the defaults
-- (DEFAULT_ATTRIBUTION): installs, sign-ups and orders, 7-day clicks, 24-hour views, 7-day half-life.
ALTER TABLE apps ADD COLUMN attribution TEXT;
