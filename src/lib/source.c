/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Source lookup for edu-fetch and edu-ifmodified: one entry of config/sources.json, read
 * through jq(1) run as a child process (no shell), so the C tools and the pipeline scripts
 * read the file with the same parser and no JSON code lives in C. It also resolves a
 * data.gouv.fr resource (DVF's raw files move at each release) through the dataset API. It
 * does not fetch the source itself nor touch the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"

#define DEFAULT_SOURCES "config/sources.json"

extern char **environ;

/*
 * One jq program for the whole lookup: first line, "ids" then every id of the config (@tsv
 * escapes tabs and newlines, so an escaped id fails the id pattern; an id that is not a string
 * is shown as JSON with its type); second line, the entry asked for, if any.
 */
static const char ENTRY_FILTER[] =
    ". as $root | if (.sources | type) != \"array\" then error(\"no \\\"sources\\\" array\")"
    " else . end"
    " | ([\"ids\"] + [.sources[].id | if type == \"string\" then . else"
    " \"\\(tojson) (\\(type))\" end] | @tsv),"
    " ([.sources[] | select(.id == $id)] | if length == 0 then empty else .[0] end"
    " | [.id, (.name // .id), (.url // \"\"), (.format // \"any\"), (.content_type // \"\"),"
    " (.change // \"sha256\"), (.table // \"\"), (.resolve.api // \"\"),"
    " (.resolve.resource // \"\"), (.years.from // \"\"), (.years.url // \"\"),"
    " (.years.match // \"\"), (.fallback_for // \"\"), (.fallback_for as $f"
    " | [$root.sources[] | select(.id == $f and .years != null)] | length)]"
    " | map(tostring) | @tsv)";
#define ENTRY_FIELDS 14

/*
 * Every resource of a dataset: title (else the URL's last segment), URL, date, checksum, size,
 * and the SHA-1 data.gouv.fr's analysis computed of a remote file.
 */
/*
 * What Opendatasoft's catalog record of a dataset (Explore v2.1; v2.0 wraps it in "dataset")
 * says of its data: when it was last processed, how many records, when it was last modified.
 */
static const char META_FILTER[] =
    "(.metas.default // .dataset.metas.default // {}) | [(.data_processed // \"\"),"
    " (.records_count // \"\"), (.modified // \"\")] | map(tostring) | @tsv";
/* The part of an Opendatasoft export URL after the dataset's catalog record. */
#define EXPORTS "/exports/"

static const char RESOURCES_FILTER[] =
    ".resources[]? | [(.title // ((.url // \"\") | split(\"/\") | last)), (.url // \"\"),"
    " (.last_modified // \"\"), (.checksum.type // \"\"), (.checksum.value // \"\"),"
    " (.filesize // \"\"), (.extras[\"analysis:checksum\"]? // \"\")]"
    " | map(tostring) | @tsv";

const char *edu_sources_path(const char *opt)
{
	const char *env = getenv("EDU_SOURCES");

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return DEFAULT_SOURCES;
}

int edu_db_configured(const char *conninfo)
{
	static const char *vars[] = {"DATABASE_URL", "PGHOST", "PGSERVICE", "PGDATABASE"};

	if (conninfo && *conninfo)
		return 1;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return 1;
	}
	return 0;
}

char *edu_jq(char *const argv[], int in_fd, int *status)
{
	posix_spawn_file_actions_t fa;
	int out[2], err, st;
	pid_t pid;
	char *buf;
	size_t len = 0, cap = 4096;
	ssize_t r;

	if (pipe(out) == -1)
		edu_die(EDU_EX_OSERR, "pipe:");
	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	posix_spawn_file_actions_addclose(&fa, out[1]);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	if (err != 0) {
		errno = err;
		edu_die(EDU_EX_CONFIG, "%s: cannot run (it reads config/sources.json):", argv[0]);
	}
	buf = edu_malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = edu_realloc(buf, cap *= 2);
		r = read(out[0], buf + len, cap - len - 1);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			edu_die(EDU_EX_OSERR, "%s: read:", argv[0]);
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(out[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			edu_die(EDU_EX_OSERR, "waitpid:");
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return buf;
}

/* Splits one @tsv line into n fields, undoing jq's escapes in place. Returns the count. */
static size_t split_tsv(char *line, char **f, size_t n)
{
	size_t k = 0;
	char *w = line;

	f[k++] = w;
	for (char *p = line; *p && *p != '\n'; p++) {
		if (*p == '\t') {
			*w++ = '\0';
			if (k < n)
				f[k++] = w;
			continue;
		}
		if (*p == '\\' && p[1]) {
			p++;
			*w++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
			continue;
		}
		*w++ = *p;
	}
	*w = '\0';
	return k;
}

/* Cuts the first line off *p (in place) and returns it, or NULL after the last line. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	if ((nl = strchr(line, '\n')) != NULL)
		*nl++ = '\0';
	*p = nl;
	return line;
}

/*
 * Dies EDU_EX_CONFIG naming the first id of the config (still @tsv-escaped) that is not one.
 * line is "ids", then the ids, tab-separated.
 */
static void check_ids(const char *config, char *line)
{
	char *ids = strchr(line, '\t'), *end;

	for (char *id = ids ? ids + 1 : NULL; id; id = end) {
		if ((end = strchr(id, '\t')) != NULL)
			*end++ = '\0';
		if (!edu_id_valid(id, strlen(id)))
			edu_die(EDU_EX_CONFIG, "%s: source id '%s': not a valid id (%s)", config,
			        id, EDU_ID_PATTERN);
	}
}

static int is_url(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0 ||
	       strncasecmp(u, "file://", 7) == 0;
}

/* The "years" object and "fallback_for": a per-year source says where its years are listed. */
static void check_years(struct edu_source *s, const char *config)
{
	regex_t *re;
	int yearly = strstr(s->url_template, "{year}") || strstr(s->resource_template, "{year}");

	if (*s->years_from == '\0') {
		if (yearly)
			edu_die(EDU_EX_CONFIG,
			        "%s: %s: {year} in its URL but no \"years\" saying where the years "
			        "are listed",
			        config, s->id);
		if (*s->fallback_for)
			edu_die(EDU_EX_CONFIG, "%s: %s: \"fallback_for\" without \"years\"", config,
			        s->id);
		return;
	}
	if (strcmp(s->years_from, "index") == 0) {
		if (!is_url(s->years_url))
			edu_die(EDU_EX_CONFIG,
			        "%s: %s: years.url '%s': not an http, https or file URL", config,
			        s->id, s->years_url);
	} else if (strcmp(s->years_from, "resolve") == 0) {
		if (*s->resolve_api == '\0')
			edu_die(EDU_EX_CONFIG, "%s: %s: years from \"resolve\" without \"resolve\"",
			        config, s->id);
	} else {
		edu_die(EDU_EX_CONFIG, "%s: %s: years.from '%s': not one of index, resolve", config,
		        s->id, s->years_from);
	}
	re = edu_malloc(sizeof(*re));
	if (regcomp(re, s->years_match, REG_EXTENDED) != 0 || re->re_nsub < 1) {
		edu_die(EDU_EX_CONFIG,
		        "%s: %s: years.match '%s': not an extended regular expression with a "
		        "group for the year",
		        config, s->id, s->years_match);
	}
	s->years_re = re;
	if (strcmp(s->fallback_for, s->id) == 0)
		edu_die(EDU_EX_CONFIG, "%s: %s: \"fallback_for\" names itself", config, s->id);
}

void edu_source_load(struct edu_source *s, const char *config, const char *id)
{
	char *argv[] = {"jq",           "-r", "--arg", "id", (char *)id, (char *)ENTRY_FILTER,
	                (char *)config, NULL};
	char *out, *rest, *ids, *entry, *f[ENTRY_FIELDS];
	int primaries;
	char **all[] = {&s->id,          &s->name,         &s->url_template,
	                &s->format_name, &s->content_type, &s->change,
	                &s->table,       &s->resolve_api,  &s->resource_template,
	                &s->years_from,  &s->years_url,    &s->years_match,
	                &s->fallback_for};
	int st;

	memset(s, 0, sizeof(*s));
	if (access(config, R_OK) == -1)
		edu_die(EDU_EX_CONFIG, "%s: cannot read:", config);
	out = edu_jq(argv, -1, &st);
	if (st != 0)
		edu_die(EDU_EX_CONFIG, "%s: not a valid sources file (jq exit %d)", config, st);
	rest = out;
	if ((ids = next_line(&rest)) != NULL)
		check_ids(config, ids);
	if ((entry = next_line(&rest)) == NULL)
		edu_die(EDU_EX_NOINPUT, "%s: unknown source (not in %s)", id, config);
	if (split_tsv(entry, f, ENTRY_FIELDS) != ENTRY_FIELDS)
		edu_die(EDU_EX_CONFIG, "%s: %s: malformed entry", config, id);
	for (size_t i = 0; i < ENTRY_FIELDS - 1; i++)
		*all[i] = edu_strdup(f[i]);
	primaries = strcmp(f[ENTRY_FIELDS - 1], "0") != 0;
	free(out);
	if ((s->format = edu_format_parse(s->format_name)) < 0)
		edu_die(EDU_EX_CONFIG, "%s: %s: format '%s': not one of csv, json, gzip, zip, any",
		        config, id, s->format_name);
	if (*s->url_template == '\0' && *s->resolve_api == '\0')
		edu_die(EDU_EX_CONFIG, "%s: %s: neither \"url\" nor \"resolve\"", config, id);
	/* Else libcurl guesses http:// for a typo, and edu-ifmodified never reads the method of
	 * a source not imported yet: a broken entry must fail before anything is fetched. */
	if (*s->url_template && !is_url(s->url_template))
		edu_die(EDU_EX_CONFIG, "%s: %s: url '%s': not an http, https or file URL", config,
		        id, s->url_template);
	if (strcmp(s->change, "conditional") != 0 && strcmp(s->change, "sha256") != 0 &&
	    strcmp(s->change, "datagouv") != 0 && strcmp(s->change, "opendatasoft") != 0)
		edu_die(
		    EDU_EX_CONFIG,
		    "%s: %s: change '%s': not one of conditional, sha256, datagouv, opendatasoft",
		    config, id, s->change);
	check_years(s, config);
	if (*s->fallback_for && !primaries)
		edu_die(EDU_EX_CONFIG,
		        "%s: %s: fallback_for '%s': no source of that id published by year", config,
		        id, s->fallback_for);
	s->unit = edu_strdup(s->id);
	s->url = edu_strdup(s->url_template);
	s->resolve_resource = edu_strdup(s->resource_template);
}

int edu_source_per_year(const struct edu_source *s)
{
	return *s->years_from != '\0';
}

/* tmpl with every "{year}" replaced, in memory from edu_malloc. */
static char *with_year(const char *tmpl, int year)
{
	struct edu_str r = {0};
	const char *at;

	while ((at = strstr(tmpl, "{year}")) != NULL) {
		edu_str_addn(&r, tmpl, (size_t)(at - tmpl));
		edu_str_add(&r, "%d", year);
		tmpl = at + strlen("{year}");
	}
	edu_str_add(&r, "%s", tmpl);
	return r.p;
}

void edu_source_year(struct edu_source *s, int year)
{
	struct edu_str unit = {0};

	if (!edu_source_per_year(s))
		return;
	if (year == 0) { /* the last complete year: what DVF publishes whole */
		time_t now = time(NULL);
		struct tm tm;

		year = localtime_r(&now, &tm) ? tm.tm_year + 1900 - 1 : 2025;
	}
	free(s->unit);
	free(s->url);
	free(s->resolve_resource);
	edu_str_add(&unit, "%s:%d", s->id, year);
	s->year = year;
	s->unit = unit.p;
	s->url = with_year(s->url_template, year);
	s->resolve_resource = with_year(s->resource_template, year);
	s->resource = NULL;
}

void edu_http_small(struct edu_http *rq, const struct edu_http *o, const char *url, int format)
{
	*rq = *o;
	rq->url = url;
	rq->format = format;
	rq->if_none_match = rq->if_modified_since = NULL;
	rq->progress = EDU_PROGRESS_OFF;
	rq->on_headers = NULL;
	rq->digest = NULL;
}

int edu_get_tmp(const struct edu_http *o, const char *url, int format, int *fd,
                struct edu_http_res *rs, char *err, size_t n)
{
	struct edu_http rq;
	struct edu_out out;
	const char *tmpdir = getenv("TMPDIR");
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/edu-get.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if ((*fd = mkstemp(path)) == -1)
		edu_die(EDU_EX_OSERR, "%s: cannot create a temporary file:", path);
	unlink(path);
	edu_out_init(&out, *fd, url);
	edu_http_small(&rq, o, url, format);
	rq.sink = edu_out_sink;
	rq.restart = edu_out_restart;
	rq.ctx = &out;
	rc = edu_http_get(&rq, rs);
	edu_out_flush(&out);
	edu_out_free(&out);
	if (rc != EDU_EX_OK) {
		snprintf(err, n, "%s: %s", url, rs->error);
		close(*fd);
		*fd = -1;
		return rc;
	}
	if (lseek(*fd, 0, SEEK_SET) == -1)
		edu_die(EDU_EX_IOERR, "%s: cannot rewind:", url);
	return EDU_EX_OK;
}

int edu_source_resources(struct edu_source *s, const struct edu_http *o, struct edu_http_res *rs,
                         char *err, size_t n)
{
	char *argv[] = {"jq", "-r", (char *)RESOURCES_FILTER, NULL};
	char *json, *rest, *line, *f[7];
	int fd, rc, st;

	if (s->res_read)
		return EDU_EX_OK;
	if ((rc = edu_get_tmp(o, s->resolve_api, EDU_FMT_JSON, &fd, rs, err, n)) != EDU_EX_OK)
		return rc;
	json = edu_jq(argv, fd, &st);
	close(fd);
	if (st != 0) {
		snprintf(err, n, "%s: not a data.gouv.fr dataset answer", s->resolve_api);
		free(json);
		return EDU_EX_UNAVAILABLE;
	}
	rest = json;
	while ((line = next_line(&rest)) != NULL) {
		struct edu_resource *r;

		if (split_tsv(line, f, 7) != 7)
			continue;
		s->res = edu_realloc(s->res, (s->nres + 1) * sizeof(*s->res));
		r = &s->res[s->nres++];
		r->name = edu_strdup(f[0]);
		r->url = edu_strdup(f[1]);
		r->last_modified = edu_strdup(f[2]);
		r->checksum_type = edu_strdup(f[3]);
		r->checksum = edu_strdup(f[4]);
		r->size = edu_strdup(f[5]);
		r->analysis_sha1 = edu_strdup(f[6]);
	}
	free(json);
	s->res_read = 1;
	return EDU_EX_OK;
}

/* A field of the catalog record that PostgreSQL reads as a timestamp or a count, or "". */
static void meta_field(char *dst, size_t n, const char *v, const char *allowed)
{
	*dst = '\0';
	if (strlen(v) < n && strspn(v, allowed) == strlen(v))
		snprintf(dst, n, "%s", v);
}

int edu_source_catalog_known(const struct edu_source *s)
{
	return strcmp(s->change, "opendatasoft") == 0 && s->url && strstr(s->url, EXPORTS) != NULL;
}

int edu_source_catalog(const struct edu_source *s, const struct edu_http *o, struct edu_meta *m,
                       struct edu_http_res *rs, char *err, size_t n)
{
	char *argv[] = {"jq", "-r", (char *)META_FILTER, NULL};
	const char *ex = strstr(s->url, EXPORTS);
	char *url, *json, *rest, *line, *f[3];
	int fd, rc, st;

	memset(m, 0, sizeof(*m));
	memset(rs, 0, sizeof(*rs));
	if (ex == NULL) {
		snprintf(err, n, "%s: not an Opendatasoft export URL", s->url);
		return EDU_EX_CONFIG;
	}
	url = edu_strndup(s->url, (size_t)(ex - s->url));
	rc = edu_get_tmp(o, url, EDU_FMT_JSON, &fd, rs, err, n);
	if (rc == EDU_EX_OK) {
		json = edu_jq(argv, fd, &st);
		close(fd);
		rest = json;
		if (st != 0 || (line = next_line(&rest)) == NULL || split_tsv(line, f, 3) != 3) {
			snprintf(err, n, "%s: not an Opendatasoft catalog record", url);
			rc = EDU_EX_UNAVAILABLE;
		} else {
			meta_field(m->data_processed, sizeof(m->data_processed), f[0],
			           "0123456789-:.+TZ ");
			meta_field(m->records_count, sizeof(m->records_count), f[1], "0123456789");
			meta_field(m->modified, sizeof(m->modified), f[2], "0123456789-:.+TZ ");
		}
		free(json);
	}
	free(url);
	return rc;
}

static const char *last_segment(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash ? slash + 1 : url;
}

/*
 * The resource of the current year: the one named resolve_resource (its title or its URL's last
 * segment), else, for a per-year source, the first whose title years_match gives that year.
 */
static const struct edu_resource *pick(const struct edu_source *s)
{
	const struct edu_resource *by_year = NULL;

	for (size_t i = 0; i < s->nres; i++) {
		const struct edu_resource *r = &s->res[i];

		if (*r->url == '\0')
			continue;
		if (*s->resolve_resource &&
		    (strcmp(r->name, s->resolve_resource) == 0 ||
		     strcmp(last_segment(r->url), s->resolve_resource) == 0))
			return r;
		if (by_year == NULL && s->year && edu_source_match_year(s, r->name) == s->year)
			by_year = r;
	}
	return by_year;
}

int edu_source_resolve(struct edu_source *s, const struct edu_http *o, struct edu_http_res *rs,
                       char *err, size_t n)
{
	int rc;

	memset(rs, 0, sizeof(*rs));
	if (*s->resolve_api == '\0')
		return EDU_EX_OK;
	if ((rc = edu_source_resources(s, o, rs, err, n)) != EDU_EX_OK)
		return rc;
	if ((s->resource = pick(s)) == NULL) {
		if (s->year)
			snprintf(err, n, "%s: no resource named %s, nor one of %d matching %s",
			         s->resolve_api, s->resolve_resource, s->year, s->years_match);
		else
			snprintf(err, n, "%s: no resource named %s", s->resolve_api,
			         s->resolve_resource);
		return EDU_EX_UNAVAILABLE;
	}
	free(s->url);
	s->url = edu_strdup(s->resource->url);
	return EDU_EX_OK;
}

int edu_format_of_url(const char *url)
{
	static const struct {
		const char *ext;
		int format;
	} exts[] = {{".csv", EDU_FMT_CSV},
	            {".json", EDU_FMT_JSON},
	            {".gz", EDU_FMT_GZIP},
	            {".zip", EDU_FMT_ZIP}};
	const char *path = strstr(url, "://");
	size_t len;

	path = path ? path + 3 : url;
	len = strcspn(path, "?#");
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t n = strlen(exts[i].ext);

		if (len > n && strncasecmp(path + len - n, exts[i].ext, n) == 0)
			return exts[i].format;
	}
	return EDU_FMT_ANY;
}

void edu_source_free(struct edu_source *s)
{
	char **all[] = {&s->id,
	                &s->name,
	                &s->url_template,
	                &s->format_name,
	                &s->content_type,
	                &s->change,
	                &s->table,
	                &s->resolve_api,
	                &s->resource_template,
	                &s->years_from,
	                &s->years_url,
	                &s->years_match,
	                &s->fallback_for,
	                &s->unit,
	                &s->url,
	                &s->resolve_resource};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
	for (size_t i = 0; i < s->nres; i++) {
		free(s->res[i].name);
		free(s->res[i].url);
		free(s->res[i].last_modified);
		free(s->res[i].checksum_type);
		free(s->res[i].checksum);
		free(s->res[i].size);
		free(s->res[i].analysis_sha1);
	}
	free(s->res);
	if (s->years_re) {
		regfree(s->years_re);
		free(s->years_re);
	}
	memset(s, 0, sizeof(*s));
}
