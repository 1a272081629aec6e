#!/bin/bash
# The settings file and the names that reach a path: .env (or EDU_ENV) is read, never executed,
# and yields to the environment; the Makefile's targets read it; a setting that should be a
# number never reaches SQL; GNU parallel's joblog is read by its column names. The refusals (a
# settings file others can read or that does not parse, a source id or unit that is not
# [a-z][a-z0-9_]* (:YYYY), an unknown source) are the fault matrix's: tests/t/0860-faults-config.t.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
pl_job t0700
fx=$EDU_ROOT/tests/fixtures
pl_source ivac "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"

# ---- .env ----
env=$T/settings.env
cat >"$env" <<EOF
# a comment, then blank lines

export EDU_LOG_DIR="$T/envlogs"
EDU_REPORT_KEYS='3'
EDU_TEST_LITERAL=\$(touch $T/executed)
EOF
chmod 600 "$env"
unset EDU_LOG_DIR
EDU_ENV=$env run bash "$EDU_ROOT/pipelines/ivac.sh" -R
is_status 0 "a private settings file is read"
ok "$([ -s "$T/envlogs/import.log" ]; echo $?)" "its EDU_LOG_DIR is used (quotes and export removed)"
ok "$([ ! -e "$T/executed" ]; echo $?)" "its values are never executed"
EDU_LOG_DIR=$T/mine EDU_ENV=$env run bash "$EDU_ROOT/pipelines/ivac.sh" -R
ok "$([ -s "$T/mine/import.log" ] && [ "$(wc -l <"$T/envlogs/import.log")" -eq 1 ]; echo $?)" \
	"the environment wins over the file"
export EDU_LOG_DIR=$T/logs

EDU_ENV=$T/missing.env run bash "$EDU_ROOT/pipelines/ivac.sh"
is_status 78 "EDU_ENV naming no file"
like_err "EDU_ENV=$T/missing.env: no such file" "says so"

# The Makefile's targets read it: make db migrates the database the file names.
printf 'PGDATABASE=t0700b\n' >"$T/db.env"
chmod 600 "$T/db.env"
createdb -T edu_template t0700b
run env -u PGDATABASE EDU_ENV="$T/db.env" make -s -C "$EDU_ROOT" db
is_status 0 "make db"
is "$(PGDATABASE=t0700b sql "select count(*) > 0 from monitoring.schema_migrations")" t \
	"migrated the database named by the settings file"
dropdb t0700b

# ---- settings and options that are never SQL nor paths ----
run bash "$EDU_ROOT/pipelines/status.sh" -o "$T/st.md" -x
is_status 64 "status.sh: a bad option"
EDU_HISTORY_DAYS="1); drop table communes; --" run bash "$EDU_ROOT/pipelines/refresh.sh" ivac
is_status 78 "a setting that should be a number"
is "$(sql "select count(*) from pg_tables where tablename = 'communes'")" 1 "never reaches SQL"
EDU_STATUS_RUNS=x run bash "$EDU_ROOT/pipelines/status.sh" -o "$T/st.md"
is_status 78 "status.sh too"

# ---- GNU parallel's joblog, read by its column names: the same run with the columns reordered ----
mkdir -p "$T/wrap"
cat >"$T/wrap/parallel" <<'EOF'
#!/bin/bash
# The real GNU parallel, then its joblog's columns in another order (as another version may).
log=
prev=
for a in "$@"; do [ "$prev" = --joblog ] && log=$a; prev=$a; done
/usr/bin/parallel "$@"
s=$?
awk -F '\t' -v OFS='\t' '{ print $9, $7, $8, $1, $2, $3, $4, $5, $6 }' "$log" >"$log.x" && mv "$log.x" "$log"
exit "$s"
EOF
chmod +x "$T/wrap/parallel"
pl_source ival "$fx/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv"
pl_rename_header "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" \
	Nom_etablissement Nom_de_l_etablissement "$T/annuaire.csv"
pl_source annuaire "$T/annuaire.csv"
PATH=$T/wrap:$PATH run bash "$EDU_ROOT/pipelines/refresh.sh" ival annuaire
is_status 65 "columns in another order: the failed source's status"
like_out '^ival: loaded: ' "the loaded source"
like_out '^annuaire: FAILED \(exit 65\)' "the failed one"
