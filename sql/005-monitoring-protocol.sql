-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- The freshness protocol between the tools, said once: edu-fetch records what it downloaded
-- (monitoring.fetched), edu-ifmodified reads what the last import saw (monitoring.known) and
-- records its check (monitoring.checked), edu-pgcopy promotes the download in the load's own
-- transaction (monitoring.imported) or records a failed or rehearsed load after its rollback
-- (monitoring.attempt). The tools hold no SQL of this protocol, only these calls.
--
-- A unit is what is checked and loaded as one: a source id of config/sources.json ('ivac'), or,
-- for a source published one file per year, the id and the year ('dvf:2023'). Every unit has
-- its row in monitoring.data_sources (key id = the unit) and its history in monitoring.runs.
-- A cool-off deadline after HTTP 429 is a column, never a parse of the message.

ALTER TABLE monitoring.data_sources
	ADD COLUMN IF NOT EXISTS source text,
	ADD COLUMN IF NOT EXISTS year integer,
	ADD COLUMN IF NOT EXISTS cooloff_until timestamptz,
	ADD COLUMN IF NOT EXISTS last_checked_ok timestamptz,
	ADD COLUMN IF NOT EXISTS last_changed timestamptz;

-- Rows written before this file: their unit is their id, and a running cool-off is kept.
UPDATE monitoring.data_sources SET
	source = split_part(id, ':', 1),
	year = CASE WHEN id ~ ':[0-9]{4}$' THEN split_part(id, ':', 2)::integer END
	WHERE source IS NULL;
UPDATE monitoring.data_sources SET cooloff_until = substring(last_error
	FROM 'until ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)')::timestamptz
	WHERE last_status = 'cooloff' AND cooloff_until IS NULL
	AND last_error ~ 'until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z';

-- One row per check and per load attempt, kept for EDU_HISTORY_DAYS (monitoring.prune_runs).
CREATE TABLE IF NOT EXISTS monitoring.runs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	unit text NOT NULL,               -- 'ivac', 'dvf:2023'
	source text NOT NULL,             -- the source id: 'ivac', 'dvf'
	year integer,                     -- the year of a per-year unit, else NULL
	kind text NOT NULL CHECK (kind IN ('check', 'load')),
	stage text,                       -- where a failure happened: fetch, convert, normalize, load...
	job text,                         -- the production run that made it (EDU_RUN_ID), NULL by hand
	started timestamptz NOT NULL,
	finished timestamptz NOT NULL DEFAULT clock_timestamp(),
	outcome text NOT NULL CHECK (outcome IN
		('changed', 'unchanged', 'loaded', 'failed', 'dry-run', 'cooloff')),
	exit_status integer,
	rows_inserted bigint,
	rows_updated bigint,
	rows_deleted bigint,
	rows_unchanged bigint,
	bytes bigint,
	sha256 text,
	url text,
	diagnostic text,                  -- the first diagnostic of a failure
	new_keys text[],                  -- first keys that appeared, "KEY label"
	removed_keys text[]               -- first keys that disappeared
);
CREATE INDEX IF NOT EXISTS runs_unit_finished ON monitoring.runs (unit, finished DESC);
CREATE INDEX IF NOT EXISTS runs_job ON monitoring.runs (job) WHERE job IS NOT NULL;

-- 'dvf:2023' -> ('dvf', 2023); 'ivac' -> ('ivac', NULL). Anything else is refused (22023), so a
-- typo can never create a unit of its own.
CREATE OR REPLACE FUNCTION monitoring.unit_parts(p_unit text, OUT source text, OUT year integer)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_unit IS NULL OR p_unit !~ '^[a-z][a-z0-9_]*(:[0-9]{4})?$' THEN
		RAISE EXCEPTION 'unit %: not a source id, or id:YYYY', coalesce(quote_literal(p_unit), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	source := split_part(p_unit, ':', 1);
	year := nullif(split_part(p_unit, ':', 2), '')::integer;
END
$$;

-- The unit's row, created on first use.
CREATE OR REPLACE FUNCTION monitoring.unit_row(p_unit text, p_name text, p_url text)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO monitoring.data_sources (id, name, url, source, year)
	SELECT p_unit, coalesce(p_name, p_unit), p_url, u.source, u.year
	FROM monitoring.unit_parts(p_unit) u
	ON CONFLICT (id) DO UPDATE SET
		name = coalesce(p_name, monitoring.data_sources.name),
		url = coalesce(p_url, monitoring.data_sources.url)
$$;

-- edu-fetch: what a complete download got, pending until a load promotes it.
CREATE OR REPLACE FUNCTION monitoring.fetched(p_unit text, p_name text, p_url text, p_etag text,
	p_last_modified timestamptz, p_sha256 text, p_size bigint)
RETURNS void LANGUAGE sql AS $$
	SELECT monitoring.unit_row(p_unit, p_name, p_url);
	UPDATE monitoring.data_sources SET pending_url = p_url, pending_etag = p_etag,
		pending_last_modified = p_last_modified, pending_sha256 = p_sha256,
		pending_size = p_size, pending_at = now()
	WHERE id = p_unit
$$;

-- edu-ifmodified: what the last import saw; no row when the unit was never seen. imported is
-- true when at least one validator is known; cooloff_until only while it runs.
CREATE OR REPLACE FUNCTION monitoring.known(p_unit text)
RETURNS TABLE (etag text, last_modified timestamptz, sha256 text, size bigint, url text,
	imported boolean, cooloff_until timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT known_etag, last_known_modified, known_sha256, known_size, known_url,
		coalesce(known_etag, known_sha256, known_url, known_size::text,
			last_known_modified::text) IS NOT NULL,
		CASE WHEN d.cooloff_until > now() THEN d.cooloff_until END
	FROM monitoring.data_sources d WHERE id = p_unit
$$;

-- edu-ifmodified: the outcome of one check (changed, unchanged, failed, cooloff), with its
-- error and, after a 429, when to ask again. The known values are not touched.
CREATE OR REPLACE FUNCTION monitoring.checked(p_unit text, p_name text, p_url text,
	p_outcome text, p_status integer, p_error text, p_cooloff_until timestamptz,
	p_started timestamptz, p_job text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
BEGIN
	IF p_outcome NOT IN ('changed', 'unchanged', 'failed', 'cooloff') THEN
		RAISE EXCEPTION 'check outcome %: not changed, unchanged, failed or cooloff', p_outcome
			USING ERRCODE = '22023';
	END IF;
	PERFORM monitoring.unit_row(p_unit, p_name, nullif(p_url, ''));
	UPDATE monitoring.data_sources SET
		last_checked = now(),
		last_status = CASE p_outcome WHEN 'failed' THEN 'error' ELSE p_outcome END,
		last_error = p_error,
		cooloff_until = p_cooloff_until,
		last_checked_ok = CASE WHEN p_outcome IN ('changed', 'unchanged') THEN now()
			ELSE last_checked_ok END,
		-- The first time a change is seen since the last import.
		last_changed = CASE WHEN p_outcome = 'changed' AND (last_changed IS NULL
			OR last_changed < coalesce(last_imported, '-infinity')) THEN now()
			ELSE last_changed END
	WHERE id = p_unit;
	INSERT INTO monitoring.runs (unit, source, year, kind, stage, job, started, outcome,
		exit_status, url, diagnostic)
	SELECT p_unit, u.source, u.year, 'check', 'check', p_job,
		coalesce(p_started, now()), p_outcome, p_status, nullif(p_url, ''), p_error
	FROM monitoring.unit_parts(p_unit) u
	RETURNING id INTO v_id;
	RETURN v_id;
END
$$;

-- edu-pgcopy -s UNIT, inside the load's transaction, after the merge: the pending download (if
-- any) becomes the known one, and the load's row of history is written. So the data, the
-- validators and the history commit together or not at all. Returns the run's id.
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
		url, new_keys, removed_keys)
	SELECT p_unit, u.source, u.year, 'load', 'load', p_job, coalesce(p_started, now()),
		CASE WHEN p_inserted + p_updated + p_deleted > 0 THEN 'loaded' ELSE 'unchanged' END,
		0, p_inserted, p_updated, p_deleted, p_unchanged,
		CASE WHEN d.pending_at IS NULL THEN d.known_size ELSE d.pending_size END,
		CASE WHEN d.pending_at IS NULL THEN d.known_sha256 ELSE d.pending_sha256 END,
		CASE WHEN d.pending_at IS NULL THEN d.known_url ELSE d.pending_url END,
		p_new_keys, p_removed_keys
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
		pending_etag = NULL, pending_last_modified = NULL, pending_sha256 = NULL,
		pending_size = NULL, pending_url = NULL, pending_at = NULL,
		last_status = 'imported', last_error = NULL
	WHERE id = p_unit;
	RETURN v_id;
END
$$;

-- A load that did not commit: 'failed' (after the rollback, by the tool that failed or by the
-- pipeline script for a stage that is not a tool of the database) or 'dry-run' (edu-pgcopy -n:
-- the counts a real run would make). Nothing is promoted; a failure is remembered on the
-- unit's row so that the status report can say FAILING. Returns the run's id.
CREATE OR REPLACE FUNCTION monitoring.attempt(p_unit text, p_stage text, p_started timestamptz,
	p_outcome text, p_status integer, p_diagnostic text, p_inserted bigint, p_updated bigint,
	p_deleted bigint, p_unchanged bigint, p_job text, p_new_keys text[], p_removed_keys text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
BEGIN
	IF p_outcome NOT IN ('failed', 'dry-run') THEN
		RAISE EXCEPTION 'load attempt outcome %: not failed or dry-run', p_outcome
			USING ERRCODE = '22023';
	END IF;
	PERFORM monitoring.unit_row(p_unit, NULL, NULL);
	INSERT INTO monitoring.runs (unit, source, year, kind, stage, job, started, outcome,
		exit_status, rows_inserted, rows_updated, rows_deleted, rows_unchanged, bytes, sha256,
		url, diagnostic, new_keys, removed_keys)
	SELECT p_unit, u.source, u.year, 'load', p_stage, p_job, coalesce(p_started, now()),
		p_outcome, p_status, p_inserted, p_updated, p_deleted, p_unchanged,
		d.pending_size, d.pending_sha256, d.pending_url, p_diagnostic, p_new_keys,
		p_removed_keys
	FROM monitoring.unit_parts(p_unit) u, monitoring.data_sources d
	WHERE d.id = p_unit
	RETURNING id INTO v_id;
	IF p_outcome = 'failed' THEN
		UPDATE monitoring.data_sources SET last_status = 'failed', last_error = p_diagnostic
		WHERE id = p_unit;
	END IF;
	RETURN v_id;
END
$$;

-- Bounded history: runs older than p_days go, but the newest p_keep of each unit and kind stay,
-- so a source that has not run for a long time still shows its last runs. Returns rows deleted.
CREATE OR REPLACE FUNCTION monitoring.prune_runs(p_days integer, p_keep integer DEFAULT 20)
RETURNS bigint LANGUAGE sql AS $$
	WITH old AS (
		SELECT id FROM (SELECT id, finished, row_number() OVER (PARTITION BY unit, kind
			ORDER BY finished DESC) AS n FROM monitoring.runs) r
		WHERE n > p_keep AND finished < now() - make_interval(days => p_days)),
	d AS (DELETE FROM monitoring.runs WHERE id IN (SELECT id FROM old) RETURNING 1)
	SELECT count(*) FROM d
$$;

-- A list-partitioned table's partition for one value, created when missing, so that a load of a
-- new year (edu-pgcopy -w annee=2027 dvf_mutations) needs no migration. The partition is built
-- apart and then attached: ATTACH takes only SHARE UPDATE EXCLUSIVE on the parent, so loads of
-- other partitions and the app's reads go on; CREATE ... PARTITION OF would lock them all out.
-- It runs as its owner (the migrating role), so edu_pipeline needs no DDL right; call it outside
-- the load's transaction, whose locks would otherwise be held for the whole load.
CREATE OR REPLACE FUNCTION public.edu_ensure_partition(p_parent regclass, p_value text)
RETURNS regclass LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	v_strategy "char";
	v_nkeys int;
	v_col name;
	v_nsp name;
	v_rel name;
	v_child regclass;
	v_name text;
BEGIN
	SELECT p.partstrat, p.partnatts, a.attname, n.nspname, c.relname
		INTO v_strategy, v_nkeys, v_col, v_nsp, v_rel
	FROM pg_partitioned_table p
	JOIN pg_class c ON c.oid = p.partrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
	WHERE p.partrelid = p_parent;
	IF NOT FOUND OR v_strategy <> 'l' OR v_nkeys <> 1 OR v_col IS NULL THEN
		RAISE EXCEPTION 'table %: not partitioned by a list of one column', p_parent
			USING ERRCODE = '22023';
	END IF;
	IF p_value IS NULL OR p_value !~ '^[A-Za-z0-9_]{1,20}$' THEN
		RAISE EXCEPTION 'partition value %: only letters, digits and _ make a partition name',
			coalesce(quote_literal(p_value), 'NULL') USING ERRCODE = '22023';
	END IF;
	-- A partition that already takes exactly this value, whatever its name.
	SELECT c.oid::regclass INTO v_child
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = p_parent AND pg_get_expr(c.relpartbound, c.oid) IN
		(format('FOR VALUES IN (%s)', p_value), format('FOR VALUES IN (%L)', p_value));
	IF v_child IS NOT NULL THEN
		RETURN v_child;
	END IF;
	v_name := left(v_rel, 63 - 1 - length(p_value)) || '_' || lower(p_value);
	SET LOCAL lock_timeout = '30s';
	EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING GENERATED '
		'INCLUDING CONSTRAINTS)', v_nsp, v_name, v_nsp, v_rel);
	EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I FOR VALUES IN (%L)',
		v_nsp, v_rel, v_nsp, v_name, p_value);
	RETURN format('%I.%I', v_nsp, v_name)::regclass;
END
$$;
REVOKE ALL ON FUNCTION public.edu_ensure_partition(regclass, text) FROM PUBLIC;

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_pipeline') THEN
		GRANT SELECT, INSERT, DELETE ON monitoring.runs TO edu_pipeline;
		GRANT EXECUTE ON FUNCTION public.edu_ensure_partition(regclass, text) TO edu_pipeline;
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_app') THEN
		GRANT SELECT ON monitoring.runs TO edu_app;
	END IF;
END
$$;
