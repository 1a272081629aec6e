#!/bin/bash
# The suite's one SIGPIPE policy (man/edu.7): a tool whose reader went away dies of SIGPIPE,
# quietly, like jq and awk, so a shell sees 141, whatever the parent did with the signal (an
# ignored signal is inherited); a pipeline script skips such a stage as a consequence of the
# later stage that failed and reports that one.
. "${EDU_ROOT:-.}/tests/lib.sh"

/usr/bin/python3 "$EDU_ROOT/tests/gen-dvf.py" 30000 >"$T/big.csv"
edu-csv2tsv -q "$T/big.csv" >"$T/big.tsv"
printf 'id_mutation\tid\ttext\n' >"$T/id.map"

# stops READER-DESCRIPTION CMD: runs "CMD | head -c 1", with SIGPIPE as the parent had it and
# ignored by the parent, and checks the writer's status and that it said nothing.
stops() {
	local what=$1 cmd=$2 parent
	for parent in default ignored; do
		if [ "$parent" = default ]; then
			bash -c "$cmd 2>'$ERR' | head -c 1 >/dev/null"'; echo "${PIPESTATUS[0]}"' >"$OUT"
		else
			bash -c "trap '' PIPE; $cmd 2>'$ERR' | head -c 1 >/dev/null"'; echo "${PIPESTATUS[0]}"' >"$OUT"
		fi
		is "$(cat "$OUT")" 141 "$what, SIGPIPE $parent in the parent: killed by SIGPIPE"
		empty_err "$what, SIGPIPE $parent in the parent: nothing on stderr"
	done
}
stops "edu-csv2tsv" "edu-csv2tsv '$T/big.csv'"
stops "edu-normalize" "edu-normalize -q -M '$T/id.map' '$T/big.tsv'"
stops "edu-fetch" "edu-fetch -q -F csv 'file://$T/big.csv'"

# A pipeline script: the converter killed by SIGPIPE is not the cause, the normalizer is.
cat >"$T/p.sh" <<'SCRIPT'
#!/bin/bash
. "$EDU_ROOT/pipelines/lib.sh"
edu-csv2tsv "$1" | edu-normalize -M "$2" >/dev/null
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize
SCRIPT
printf 'no such column\tx\ttext\n' >"$T/drift.map"
run bash "$T/p.sh" "$T/big.csv" "$T/drift.map"
is_status 65 "a pipeline whose second stage fails exits with that stage's status"
like_err '^pipelines/p\.sh: edu-normalize failed \(exit 65\)' "the failing stage is named"
if grep -q 'edu-csv2tsv failed' "$ERR"; then ok 1 "the converter, killed by SIGPIPE, is not blamed"; else
	ok 0 "the converter, killed by SIGPIPE, is not blamed"
fi
