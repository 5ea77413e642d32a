-- An invitation link answers with what became of it: revoked by an owner or admin, or used, and
-- by whom. Accepting marks the row and adds the membership in one batch keyed on accepted_by,
-- so a link joins one account once.
ALTER TABLE invitations ADD COLUMN revoked_at INTEGER;
ALTER TABLE invitations ADD COLUMN accepted_by TEXT REFERENCES users(id) ON DELETE SET NULL;
