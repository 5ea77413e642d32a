-- Saved insights and dashboards of an organisation. Times are epoch ms.

-- An insight is its page's URL query string: the page parses it, so a saved insight opens and
-- renders exactly as it was saved, and a definition the page learns to read better needs no
-- migration here.
CREATE TABLE saved_insights (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  type        TEXT NOT NULL CHECK (type IN ('trends', 'stickiness', 'funnels', 'retention', 'paths')),
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  query       TEXT NOT NULL DEFAULT '',
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE INDEX saved_insights_org ON saved_insights(org_id, updated_at DESC);

-- `range` and `filters` (a query string of platform, country, release, prop and tz) apply to
-- every card, over the card's own. `layout` is the cards in order, as JSON:
-- [{"insightId": "…", "w": 1 | 2}], w the columns of a two-column grid the card spans.
CREATE TABLE dashboards (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  range       TEXT NOT NULL DEFAULT '',
  filters     TEXT NOT NULL DEFAULT '',
  layout      TEXT NOT NULL DEFAULT '[]',
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE INDEX dashboards_org ON dashboards(org_id, updated_at DESC);
