-- An app's own URL templates for network calls and page paths (schemas/perf.ts UrlTemplate), as a
-- JSON array tried in order before the automatic templating; NULL means none. Read by the edge
-- with the write key, so a change reaches ingest within 30 s and applies to calls received after it.
ALTER TABLE apps ADD COLUMN url_templates TEXT;
