-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- The publisher's own metadata of a dataset, as a change signal that costs a few kilobytes
-- instead of a whole export (change "opendatasoft", docs/sources.md): Opendatasoft's catalog
-- record gives data_processed (when the platform last processed the data), records_count and
-- modified. edu-fetch reads it just before the export and records it as pending
-- (monitoring.fetched_meta); the load promotes it with the other validators
-- (monitoring.imported); edu-ifmodified compares it (monitoring.meta_unchanged) and records
-- what it read on the check's run, and as the known metadata when the check proved the content
-- unchanged (monitoring.checked_meta). Each value is a column, never a parse of text.

ALTER TABLE monitoring.data_sources
	ADD COLUMN IF NOT EXISTS pending_data_processed timestamptz,
	ADD COLUMN IF NOT EXISTS pending_records_count bigint,
	ADD COLUMN IF NOT EXISTS pending_modified timestamptz,
	ADD COLUMN IF NOT EXISTS known_data_processed timestamptz,
	ADD COLUMN IF NOT EXISTS known_records_count bigint,
	ADD COLUMN IF NOT EXISTS known_modified timestamptz;

ALTER TABLE monitoring.runs
	ADD COLUMN IF NOT EXISTS data_processed timestamptz,
	ADD COLUMN IF NOT EXISTS records_count bigint,
	ADD COLUMN IF NOT EXISTS modified timestamptz;

-- edu-fetch: as in 005, and a download forgets the metadata of the previous one, so that a
-- load never promotes metadata read for another file.
CREATE OR REPLACE FUNCTION monitoring.fetched(p_unit text, p_name text, p_url text, p_etag text,
	p_last_modified timestamptz, p_sha256 text, p_size bigint)
RETURNS void LANGUAGE sql AS $$
	SELECT monitoring.unit_row(p_unit, p_name, p_url);
	UPDATE monitoring.data_sources SET pending_url = p_url, pending_etag = p_etag,
		pending_last_modified = p_last_modified, pending_sha256 = p_sha256,
		pending_size = p_size, pending_at = now(),
		pending_data_processed = NULL, pending_records_count = NULL, pending_modified = NULL
	WHERE id = p_unit
$$;

-- edu-fetch, after monitoring.fetched: the publisher's metadata, read just before the download
-- (read before, so that a change during the download is seen by the next check, never hidden).
CREATE OR REPLACE FUNCTION monitoring.fetched_meta(p_unit text, p_data_processed timestamptz,
	p_records_count bigint, p_modified timestamptz)
RETURNS void LANGUAGE sql AS $$
	UPDATE monitoring.data_sources SET pending_data_processed = p_data_processed,
		pending_records_count = p_records_count, pending_modified = p_modified
	WHERE id = p_unit
$$;

-- edu-ifmodified: true when the publisher's data_processed and records_count are those known
-- (from the last import, or the last check that proved the content unchanged). Nothing read,
-- or nothing known: false, and the content's hash decides.
CREATE OR REPLACE FUNCTION monitoring.meta_unchanged(p_unit text, p_data_processed timestamptz,
	p_records_count bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT d.known_data_processed IS NOT DISTINCT FROM p_data_processed
			AND d.known_records_count IS NOT DISTINCT FROM p_records_count
		FROM monitoring.data_sources d WHERE d.id = p_unit), false)
		AND coalesce(p_data_processed::text, p_records_count::text) IS NOT NULL
$$;

-- edu-ifmodified, after monitoring.checked (p_run is its result): the metadata the check read,
-- on its run; and, when p_known (the check proved the content the imported one: same metadata,
-- or same hash), as the unit's known metadata, so that the next check is cheap again.
CREATE OR REPLACE FUNCTION monitoring.checked_meta(p_run bigint, p_data_processed timestamptz,
	p_records_count bigint, p_modified timestamptz, p_known boolean)
RETURNS void LANGUAGE sql AS $$
	UPDATE monitoring.runs SET data_processed = p_data_processed,
		records_count = p_records_count, modified = p_modified
	WHERE id = p_run;
	UPDATE monitoring.data_sources d SET known_data_processed = p_data_processed,
		known_records_count = p_records_count, known_modified = p_modified
	FROM monitoring.runs r
	WHERE p_known AND r.id = p_run AND d.id = r.unit
$$;

-- edu-pgcopy -s: as in 005, and the pending metadata is promoted with the other validators and
-- written on the load's run.
CREATE OR REPLACE FUNCTION monitoring.imported(p_unit text, p_started timestamptz,
	p_inserted bigint, p_updated bigint, p_deleted bigint, p_unchanged bigint,
	p_seconds double precision, p_job text, p_new_keys text[], p_removed_keys text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
BEGIN
	PERFORM monitoring.unit_row(p_unit, NULL, NULL);
	INSERT INTO monitoring.runs (unit, source, year, kind, stage, job, started, outcome,
		exit_status, rows_inserted, rows_updated, rows_deleted, rows_unchanged, bytes, sha256,
		url, new_keys, removed_keys, data_processed, records_count, modified)
	SELECT p_unit, u.source, u.year, 'load', 'load', p_job, coalesce(p_started, now()),
		CASE WHEN p_inserted + p_updated + p_deleted > 0 THEN 'loaded' ELSE 'unchanged' END,
		0, p_inserted, p_updated, p_deleted, p_unchanged,
		CASE WHEN d.pending_at IS NULL THEN d.known_size ELSE d.pending_size END,
		CASE WHEN d.pending_at IS NULL THEN d.known_sha256 ELSE d.pending_sha256 END,
		CASE WHEN d.pending_at IS NULL THEN d.known_url ELSE d.pending_url END,
		p_new_keys, p_removed_keys,
		CASE WHEN d.pending_at IS NULL THEN d.known_data_processed ELSE d.pending_data_processed END,
		CASE WHEN d.pending_at IS NULL THEN d.known_records_count ELSE d.pending_records_count END,
		CASE WHEN d.pending_at IS NULL THEN d.known_modified ELSE d.pending_modified END
	FROM monitoring.unit_parts(p_unit) u, monitoring.data_sources d
	WHERE d.id = p_unit
	RETURNING id INTO v_id;
	UPDATE monitoring.data_sources SET
		last_imported = now(),
		rows_imported = p_inserted + p_updated + p_unchanged,
		last_duration_seconds = p_seconds,
		-- Promote what edu-fetch saw only when it saw something: a load by hand (no fetch)
		-- must not blank the known validators. Pending is then cleared, so that a later load
		-- cannot promote stale values.
		known_etag = CASE WHEN pending_at IS NULL THEN known_etag ELSE pending_etag END,
		last_known_modified = CASE WHEN pending_at IS NULL THEN last_known_modified
			ELSE pending_last_modified END,
		known_sha256 = CASE WHEN pending_at IS NULL THEN known_sha256 ELSE pending_sha256 END,
		known_size = CASE WHEN pending_at IS NULL THEN known_size ELSE pending_size END,
		known_url = CASE WHEN pending_at IS NULL THEN known_url ELSE pending_url END,
		known_data_processed = CASE WHEN pending_at IS NULL THEN known_data_processed
			ELSE pending_data_processed END,
		known_records_count = CASE WHEN pending_at IS NULL THEN known_records_count
			ELSE pending_records_count END,
		known_modified = CASE WHEN pending_at IS NULL THEN known_modified
			ELSE pending_modified END,
		pending_etag = NULL, pending_last_modified = NULL, pending_sha256 = NULL,
		pending_size = NULL, pending_url = NULL, pending_at = NULL,
		pending_data_processed = NULL, pending_records_count = NULL, pending_modified = NULL,
		last_status = 'imported', last_error = NULL
	WHERE id = p_unit;
	RETURN v_id;
END
$$;
