-- Per-database overrides of the gateway's write limits (series per
-- database, values per tag): 0 takes the gateway's default, -1 lifts it.
ALTER TABLE databases ADD COLUMN max_series INTEGER NOT NULL DEFAULT 0;
ALTER TABLE databases ADD COLUMN max_values_per_tag INTEGER NOT NULL DEFAULT 0;
