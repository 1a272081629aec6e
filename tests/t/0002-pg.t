#!/bin/bash
# tests/pg.sh, the throwaway cluster of the tests and of `make demo`: as root, a directory the
# postgres user cannot reach (a project under /root) still gets a working cluster, and no
# permission of the parents is loosened for it.
. "${EDU_ROOT:-.}/tests/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	ok 0 "# SKIP not root: the cluster belongs to the current user"
	exit 0
fi
mkdir -p "$T/private"
chmod 700 "$T/private"
run sh "$EDU_ROOT/tests/pg.sh" start "$T/private/demo/pg" fast
is_status 0 "start under a directory postgres cannot reach"
is "$(stat -c %a "$T/private")" 700 "the private parent keeps its permissions"
run bash -c "eval \"\$(sh '$EDU_ROOT/tests/pg.sh' env '$T/private/demo/pg')\"; psql -X -d edu_template -tAc 'select 1 + 1'"
is "$(cat "$OUT")" 2 "the cluster answers through the path it was given"
real=$(cd "$T/private/demo/pg" && pwd -P)
run sh "$EDU_ROOT/tests/pg.sh" start "$T/private/demo/pg" fast
is_status 0 "a second start reuses it"
run sh "$EDU_ROOT/tests/pg.sh" stop "$T/private/demo/pg"
is_status 0 "stop through the path it was given"
run bash -c "eval \"\$(sh '$EDU_ROOT/tests/pg.sh' env '$T/private/demo/pg')\"; psql -X -d edu_template -tAc 'select 1'"
ok "$([ "$status" -ne 0 ]; echo $?)" "the server is really stopped"
run sh "$EDU_ROOT/tests/pg.sh" remove "$T/private/demo/pg"
is_status 0 "remove"
ok "$([ ! -e "$real" ] && [ ! -e "$T/private/demo/pg" ]; echo $?)" "the cluster and its link are gone"
