#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Communes from geo.api.gouv.fr (one JSON array) into communes, replaced whole on code_insee (a
# commune merged away disappears; the shrink guard refuses a far shorter list). jq turns the
# JSON into the data contract with pipelines/communes.jq (its comment says how).
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

edu_load_args communes
edu_fetch communes "$EDU_WORK/communes.json"
jq -r -f "$EDU_MAPS/communes.jq" "$EDU_WORK/communes.json" |
	edu-normalize -M "$EDU_MAPS/communes.map" |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" jq edu-normalize edu-pgcopy
edu_refresh communes
