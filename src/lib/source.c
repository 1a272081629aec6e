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
    "if (.sources | type) != \"array\" then error(\"no \\\"sources\\\" array\") else . end"
    " | ([\"ids\"] + [.sources[].id | if type == \"string\" then . else"
    " \"\\(tojson) (\\(type))\" end] | @tsv),"
    " ([.sources[] | select(.id == $id)] | if length == 0 then empty else .[0] end"
    " | [.id, (.name // .id), (.url // \"\"), (.format // \"any\"), (.content_type // \"\"),"
    " (.change // \"sha256\"), (.table // \"\"), (.resolve.api // \"\"),"
    " (.resolve.resource // \"\")] | map(tostring) | @tsv)";

static const char RESOURCE_FILTER[] =
    "[.resources[]? | select(.title == $name or ((.url // \"\") | endswith(\"/\" + $name)))]"
    " | if length == 0 then empty else .[0] end"
    " | [.url, (.last_modified // \"\"), (.checksum.type // \"\"), (.checksum.value // \"\"),"
    " (.filesize // \"\")] | map(tostring) | @tsv";

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
	regex_t re;

	if (regcomp(&re, EDU_ID_PATTERN, REG_EXTENDED | REG_NOSUB) != 0)
		edu_die(EDU_EX_SOFTWARE, "cannot compile %s", EDU_ID_PATTERN);
	for (char *id = ids ? ids + 1 : NULL; id; id = end) {
		if ((end = strchr(id, '\t')) != NULL)
			*end++ = '\0';
		if (regexec(&re, id, 0, NULL, 0) != 0)
			edu_die(EDU_EX_CONFIG, "%s: source id '%s': not a valid id (%s)", config,
			        id, EDU_ID_PATTERN);
	}
	regfree(&re);
}

void edu_source_load(struct edu_source *s, const char *config, const char *id)
{
	char *argv[] = {"jq",           "-r", "--arg", "id", (char *)id, (char *)ENTRY_FILTER,
	                (char *)config, NULL};
	char *out, *rest, *ids, *entry, *f[9];
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
	if (split_tsv(entry, f, 9) != 9)
		edu_die(EDU_EX_CONFIG, "%s: %s: malformed entry", config, id);
	s->id = edu_strdup(f[0]);
	s->name = edu_strdup(f[1]);
	s->url = edu_strdup(f[2]);
	s->format_name = edu_strdup(f[3]);
	s->content_type = edu_strdup(f[4]);
	s->change = edu_strdup(f[5]);
	s->table = edu_strdup(f[6]);
	s->resolve_api = edu_strdup(f[7]);
	s->resolve_resource = edu_strdup(f[8]);
	s->res_last_modified = edu_strdup("");
	s->res_checksum_type = edu_strdup("");
	s->res_checksum = edu_strdup("");
	s->res_size = edu_strdup("");
	free(out);
	if ((s->format = edu_format_parse(s->format_name)) < 0)
		edu_die(EDU_EX_CONFIG, "%s: %s: format '%s': not one of csv, json, gzip, zip, any",
		        config, id, s->format_name);
	if (*s->url == '\0' && *s->resolve_api == '\0')
		edu_die(EDU_EX_CONFIG, "%s: %s: neither \"url\" nor \"resolve\"", config, id);
	/* Else libcurl guesses http:// for a typo, and edu-ifmodified never reads the method of
	 * a source not imported yet: a broken entry must fail before anything is fetched. */
	if (*s->url && strncasecmp(s->url, "http://", 7) != 0 &&
	    strncasecmp(s->url, "https://", 8) != 0 && strncasecmp(s->url, "file://", 7) != 0)
		edu_die(EDU_EX_CONFIG, "%s: %s: url '%s': not an http, https or file URL", config,
		        id, s->url);
	if (strcmp(s->change, "conditional") != 0 && strcmp(s->change, "sha256") != 0 &&
	    strcmp(s->change, "datagouv") != 0)
		edu_die(EDU_EX_CONFIG,
		        "%s: %s: change '%s': not one of conditional, sha256, datagouv", config, id,
		        s->change);
}

static char *replace_year(char *s, int year)
{
	const char *key = "{year}";
	char *at, *r;
	char y[16];

	while ((at = strstr(s, key)) != NULL) {
		snprintf(y, sizeof(y), "%d", year);
		r = edu_malloc(strlen(s) + strlen(y) + 1);
		memcpy(r, s, (size_t)(at - s));
		strcpy(r + (at - s), y);
		strcat(r, at + strlen(key));
		free(s);
		s = r;
	}
	return s;
}

void edu_source_year(struct edu_source *s, int year)
{
	if (year == 0) { /* the last complete year: what DVF publishes whole */
		time_t now = time(NULL);
		struct tm tm;

		year = localtime_r(&now, &tm) ? tm.tm_year + 1900 - 1 : 2025;
	}
	s->url = replace_year(s->url, year);
	s->resolve_resource = replace_year(s->resolve_resource, year);
}

static void to_fd(void *ctx, const char *p, size_t n)
{
	edu_out_write(ctx, p, n);
}

static void rewind_fd(void *ctx)
{
	edu_out_rewind(ctx);
}

int edu_source_resolve(struct edu_source *s, const struct edu_http *o, char *err, size_t n)
{
	char *argv[] = {"jq", "-r", "--arg", "name", s->resolve_resource, (char *)RESOURCE_FILTER,
	                NULL};
	struct edu_http rq = *o;
	struct edu_http_res rs;
	struct edu_out out;
	const char *tmpdir = getenv("TMPDIR");
	char path[4096], *json, *f[5];
	int fd, rc, st;

	if (*s->resolve_api == '\0')
		return EDU_EX_OK;
	snprintf(path, sizeof(path), "%s/edu-resolve.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		edu_die(EDU_EX_OSERR, "%s: cannot create a temporary file:", path);
	unlink(path);
	edu_out_init(&out, fd, "dataset API answer");
	rq.url = s->resolve_api;
	rq.format = EDU_FMT_JSON;
	rq.if_none_match = rq.if_modified_since = NULL;
	rq.progress = EDU_PROGRESS_OFF;
	rq.sink = to_fd;
	rq.restart = rewind_fd;
	rq.on_headers = NULL;
	rq.ctx = &out;
	rc = edu_http_get(&rq, &rs);
	edu_out_flush(&out);
	edu_out_free(&out);
	if (rc != EDU_EX_OK || rs.status == 304) {
		snprintf(err, n, "%s: %s", s->resolve_api,
		         rs.error[0] ? rs.error : "not modified?");
		close(fd);
		return rc != EDU_EX_OK ? rc : EDU_EX_UNAVAILABLE;
	}
	if (lseek(fd, 0, SEEK_SET) == -1)
		edu_die(EDU_EX_IOERR, "dataset API answer: cannot rewind:");
	json = edu_jq(argv, fd, &st);
	close(fd);
	if (st != 0 || *json == '\0' || split_tsv(json, f, 5) != 5 || *f[0] == '\0') {
		snprintf(err, n, "%s: %s", s->resolve_api,
		         st != 0 ? "not a data.gouv.fr dataset answer"
		                 : "no resource of that name in the dataset");
		if (st == 0)
			snprintf(err, n, "%s: no resource named %s", s->resolve_api,
			         s->resolve_resource);
		free(json);
		return EDU_EX_UNAVAILABLE;
	}
	free(s->url);
	free(s->res_last_modified);
	free(s->res_checksum_type);
	free(s->res_checksum);
	free(s->res_size);
	s->url = edu_strdup(f[0]);
	s->res_last_modified = edu_strdup(f[1]);
	s->res_checksum_type = edu_strdup(f[2]);
	s->res_checksum = edu_strdup(f[3]);
	s->res_size = edu_strdup(f[4]);
	free(json);
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
	                &s->url,
	                &s->format_name,
	                &s->content_type,
	                &s->change,
	                &s->table,
	                &s->resolve_api,
	                &s->resolve_resource,
	                &s->res_last_modified,
	                &s->res_checksum_type,
	                &s->res_checksum,
	                &s->res_size};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
}
