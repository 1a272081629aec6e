/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Source ids and units: what config/sources.json names a source ("ivac"), and what the run
 * history records ("ivac", or "dvf:2024" for one year of a source published by year). Apart
 * from source.c, which reads the config, so that a tool without HTTP (edu-pgcopy) checks a
 * unit without linking libcurl.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"

int edu_id_valid(const char *id, size_t n)
{
	char *s = edu_strndup(id, n);
	regex_t re;
	int ok;

	if (regcomp(&re, EDU_ID_PATTERN, REG_EXTENDED | REG_NOSUB) != 0)
		edu_die(EDU_EX_SOFTWARE, "cannot compile %s", EDU_ID_PATTERN);
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	free(s);
	return ok;
}

int edu_unit_year(const char *unit, size_t *idlen)
{
	const char *colon = strrchr(unit, ':');
	int year = 0;

	*idlen = strlen(unit);
	if (colon == NULL || strlen(colon + 1) != 4 || strspn(colon + 1, "0123456789") != 4)
		return 0;
	for (const char *p = colon + 1; *p; p++)
		year = year * 10 + (*p - '0');
	*idlen = (size_t)(colon - unit);
	return year;
}
