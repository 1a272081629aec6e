-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- PostGIS and the freshness record of every source. The app's own migration 004 may already
-- have created monitoring.data_sources with its five seed columns: create it only when absent,
-- then add the columns change detection and reporting need (docs/schema.md).
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS monitoring;

CREATE TABLE IF NOT EXISTS monitoring.data_sources (
	id text PRIMARY KEY,
	name text,
	last_checked timestamptz,
	last_imported timestamptz,
	last_known_modified timestamptz
);

ALTER TABLE monitoring.data_sources
	ADD COLUMN IF NOT EXISTS url text,
	ADD COLUMN IF NOT EXISTS known_etag text,
	ADD COLUMN IF NOT EXISTS known_sha256 text,
	ADD COLUMN IF NOT EXISTS known_size bigint,
	ADD COLUMN IF NOT EXISTS known_url text,
	ADD COLUMN IF NOT EXISTS pending_etag text,
	ADD COLUMN IF NOT EXISTS pending_last_modified timestamptz,
	ADD COLUMN IF NOT EXISTS pending_sha256 text,
	ADD COLUMN IF NOT EXISTS pending_size bigint,
	ADD COLUMN IF NOT EXISTS pending_url text,
	ADD COLUMN IF NOT EXISTS pending_at timestamptz,
	ADD COLUMN IF NOT EXISTS last_status text,
	ADD COLUMN IF NOT EXISTS last_error text,
	ADD COLUMN IF NOT EXISTS rows_imported bigint,
	ADD COLUMN IF NOT EXISTS last_duration_seconds double precision;
