# geo.api.gouv.fr's communes (one JSON array) into the data contract, for pipelines/communes.sh:
# centre.coordinates gives longitude and latitude, and a commune without a centre (some overseas
# collectivities) gets NULLs rather than being dropped. @tsv escapes backslash, tab, CR and LF
# exactly as COPY text format does; null becomes \N. jq parses the whole document before
# printing, so a cut download yields no rows and no end-of-data line.
def field: if . == null then "\\N" else ([tostring] | @tsv) end;
"code\tnom\tcodeDepartement\tcodeRegion\tlongitude\tlatitude",
(.[] | [.code, .nom, .codeDepartement, .codeRegion, .centre.coordinates[0], .centre.coordinates[1]]
	| map(field) | join("\t")),
"\\."
