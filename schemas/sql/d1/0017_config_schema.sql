-- The JSON Schema a configuration version was saved with (workers/flags/config.ts), kept with
-- the version so a rollback restores the shape it was checked against. NULL: no schema.
ALTER TABLE app_config_versions ADD COLUMN schema TEXT;
