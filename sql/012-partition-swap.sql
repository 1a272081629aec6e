-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- A partition replaced whole by a swap (edu-pgcopy, when a year is mostly new): its rows go into
-- a shadow table shaped like it without indexes, the indexes are built after the rows, then in
-- one short step the old partition is detached and dropped and the shadow attached in its place,
-- under its name, with its rights. All three functions run inside the load's transaction, so a
-- crash at any point leaves the old partition or the new one, never both and never none: the
-- shadow exists only in that transaction. They run as their owner (the migrating role), like
-- edu_ensure_partition, so that edu_pipeline needs no DDL right. Also: the partitions made before
-- this file get the rights sql/006 gives every table (edu-pgcopy now writes a partition straight,
-- not through its parent).

-- The partition of p_parent that takes exactly p_value (a list of one column), or NULL.
CREATE OR REPLACE FUNCTION public.edu_partition_of(p_parent regclass, p_value text)
RETURNS regclass LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
	SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = p_parent AND pg_get_expr(c.relpartbound, c.oid) IN
		(format('FOR VALUES IN (%s)', p_value), format('FOR VALUES IN (%L)', p_value))
$$;

-- The shadow of the partition of p_value: an empty table made LIKE it (columns, defaults, computed
-- columns, CHECKs) without its indexes, with its owner and exactly its rights, and a CHECK that
-- its rows are of p_value, so that ATTACH trusts it without reading a row. Refused (22023) when
-- the parent has a constraint index (a primary key or a unique constraint): ATTACH would build
-- that index again under its lock.
CREATE OR REPLACE FUNCTION public.edu_partition_shadow(p_parent regclass, p_value text)
RETURNS regclass LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	v_old regclass := public.edu_partition_of(p_parent, p_value);
	v_nsp name;
	v_name text;
	v_col name;
	v_type text;
	v_shadow regclass;
	r record;
BEGIN
	IF v_old IS NULL THEN
		RAISE EXCEPTION 'table %: no partition for %', p_parent, p_value USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = p_parent AND conindid <> 0) THEN
		RAISE EXCEPTION 'table %: a constraint index would be built again at ATTACH', p_parent
			USING ERRCODE = '22023';
	END IF;
	SELECT n.nspname, c.relname INTO v_nsp, v_name
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = v_old;
	SELECT a.attname, format_type(a.atttypid, a.atttypmod) INTO v_col, v_type
	FROM pg_partitioned_table p JOIN pg_attribute a
		ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
	WHERE p.partrelid = p_parent;
	v_name := left(v_name, 63 - 5) || '_swap';
	EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING ALL EXCLUDING INDEXES)',
		v_nsp, v_name, v_old);
	v_shadow := format('%I.%I', v_nsp, v_name)::regclass;
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT edu_swap_bound CHECK (%I IS NOT NULL AND %I = %L::%s)',
		v_shadow, v_col, v_col, p_value, v_type);
	IF (SELECT relowner FROM pg_class WHERE oid = v_old) <>
		(SELECT relowner FROM pg_class WHERE oid = v_shadow) THEN
		EXECUTE format('ALTER TABLE %s OWNER TO %I', v_shadow,
			(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = v_old));
	END IF;
	-- Exactly the old partition's rights: what the default privileges gave the shadow goes first.
	FOR r IN SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
		WHERE c.oid = v_shadow AND a.grantee <> c.relowner
	LOOP
		EXECUTE format('REVOKE ALL ON %s FROM %s', v_shadow,
			CASE r.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
	END LOOP;
	FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) a
		WHERE c.oid = v_old AND a.grantee <> c.relowner
	LOOP
		EXECUTE format('GRANT %s ON %s TO %s%s', r.privilege_type, v_shadow,
			CASE r.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
			CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
	RETURN v_shadow;
END
$$;

-- The shadow's indexes, built after its rows: one for each index of the parent, the same
-- definition, so that ATTACH adopts them instead of building its own; then its statistics.
CREATE OR REPLACE FUNCTION public.edu_partition_index(p_shadow regclass, p_parent regclass)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	v_def text;
	v_n integer := 0;
BEGIN
	IF (SELECT relname FROM pg_class WHERE oid = p_shadow) !~ '_swap$' THEN
		RAISE EXCEPTION 'table %: not a shadow partition', p_shadow USING ERRCODE = '22023';
	END IF;
	FOR v_def IN SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = p_parent ORDER BY i.indexrelid
	LOOP
		v_def := regexp_replace(v_def, '^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ USING ',
			'CREATE \1INDEX ON ' || p_shadow::text || ' USING ');
		IF v_def !~ '^CREATE (UNIQUE )?INDEX ON ' THEN
			RAISE EXCEPTION 'table %: index definition not understood: %', p_parent, v_def
				USING ERRCODE = '22023';
		END IF;
		EXECUTE v_def;
		v_n := v_n + 1;
	END LOOP;
	EXECUTE format('ANALYZE %s', p_shadow);
	RETURN v_n;
END
$$;

-- The swap: the old partition of p_value detached and dropped, the shadow renamed to its name,
-- attached for p_value (its CHECK proves the bound: no row is read), its indexes renamed to the
-- old ones' names, and the CHECK, now redundant, dropped. It takes an ACCESS EXCLUSIVE lock on the
-- parent, which waits for every reader of the table and makes the next ones wait: waiting at most
-- p_lock_ms, so that a reader never waits longer; past it, 55P03 (lock_not_available), and the
-- caller, who called it in a savepoint, retries or rewrites the partition in place instead.
CREATE OR REPLACE FUNCTION public.edu_partition_swap(p_shadow regclass, p_parent regclass,
	p_value text, p_lock_ms integer)
RETURNS regclass LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	v_old regclass := public.edu_partition_of(p_parent, p_value);
	v_name name;
	v_parents oid[];
	v_names name[];
	v_saved text := current_setting('lock_timeout');
	r record;
BEGIN
	IF v_old IS NULL OR (SELECT relname FROM pg_class WHERE oid = p_shadow) !~ '_swap$' THEN
		RAISE EXCEPTION 'table %: no partition for % or no shadow', p_parent, p_value
			USING ERRCODE = '22023';
	END IF;
	SELECT relname INTO v_name FROM pg_class WHERE oid = v_old;
	PERFORM set_config('lock_timeout', p_lock_ms || 'ms', true);
	-- ONLY: LOCK TABLE would otherwise take every partition too, among them those that loads of
	-- other years read in their transactions (a deadlock as soon as two years swap at once).
	EXECUTE format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent);
	EXECUTE format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_old);
	PERFORM set_config('lock_timeout', v_saved, true);
	SELECT array_agg(pi.inhparent ORDER BY c.oid), array_agg(c.relname ORDER BY c.oid)
		INTO v_parents, v_names
	FROM pg_index i JOIN pg_inherits pi ON pi.inhrelid = i.indexrelid
	JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = v_old;
	EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, v_old);
	EXECUTE format('DROP TABLE %s', v_old);
	EXECUTE format('ALTER TABLE %s RENAME TO %I', p_shadow, v_name);
	EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%L)',
		p_parent, p_shadow, p_value);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT edu_swap_bound', p_shadow);
	FOR r IN SELECT i.indexrelid::regclass AS idx, n.name FROM pg_index i
		JOIN pg_inherits pi ON pi.inhrelid = i.indexrelid
		JOIN unnest(v_parents, v_names) n (parent_index, name) ON n.parent_index = pi.inhparent
		WHERE i.indrelid = p_shadow
	LOOP
		EXECUTE format('ALTER INDEX %s RENAME TO %I', r.idx, r.name);
	END LOOP;
	RETURN p_shadow;
END
$$;

REVOKE ALL ON FUNCTION public.edu_partition_of(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.edu_partition_shadow(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.edu_partition_index(regclass, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.edu_partition_swap(regclass, regclass, text, integer) FROM PUBLIC;

DO $$
DECLARE
	r record;
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_pipeline') THEN
		GRANT EXECUTE ON FUNCTION public.edu_partition_of(regclass, text),
			public.edu_partition_shadow(regclass, text),
			public.edu_partition_index(regclass, regclass),
			public.edu_partition_swap(regclass, regclass, text, integer) TO edu_pipeline;
	END IF;
	-- The rule of sql/006 for the partitions it skipped.
	FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relispartition
		AND c.relowner IN (SELECT oid FROM pg_roles WHERE rolname IN (current_user, 'edu_pipeline'))
	LOOP
		IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_app') THEN
			EXECUTE format('GRANT SELECT ON %s TO edu_app', r.rel);
		END IF;
		IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_pipeline') THEN
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON %s TO edu_pipeline',
				r.rel);
		END IF;
	END LOOP;
END
$$;
