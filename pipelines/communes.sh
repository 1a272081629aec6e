#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Communes from geo.api.gouv.fr (one JSON array) into communes, replaced whole on code_insee (a
# commune merged away disappears; the shrink guard refuses a far shorter list). jq turns the
# JSON into the data contract: centre.coordinates gives longitude and latitude, and a commune
# without a centre (some overseas collectivities) gets NULLs rather than being dropped. jq parses
# the whole document before printing, so a cut download yields no rows and no end-of-data line.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

# @tsv escapes backslash, tab, CR and LF exactly as COPY text format does; null becomes \N.
contract='def field: if . == null then "\\N" else ([tostring] | @tsv) end;
	"code\tnom\tcodeDepartement\tcodeRegion\tlongitude\tlatitude",
	(.[] | [.code, .nom, .codeDepartement, .codeRegion, .centre.coordinates[0], .centre.coordinates[1]]
		| map(field) | join("\t")),
	"\\."'

edu_load_args communes
edu_fetch communes "$EDU_WORK/communes.json"
jq -r "$contract" "$EDU_WORK/communes.json" |
	edu-normalize -M "$EDU_MAPS/communes.map" |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" jq edu-normalize edu-pgcopy
edu_refresh communes
