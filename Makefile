# eduinfo-pipeline: one Makefile, no generator. Settings live in config.mk.
include config.mk

# src/edu-<tool>-<concern>.c is the second file of a tool, not a tool of its own.
PARTS = $(wildcard src/edu-*-*.c)
TOOLS = $(patsubst src/%.c,bin/%,$(filter-out $(PARTS),$(wildcard src/edu-*.c)))
LIBSRC = $(wildcard src/lib/*.c)
LIBOBJ = $(LIBSRC:.c=.o)
LIB = src/lib/libedu.a
MAN1 = $(wildcard man/*.1)
MAN7 = $(wildcard man/*.7)
SHELLSCRIPTS = $(wildcard pipelines/*.sh) $(wildcard tests/*.sh) $(wildcard tests/t/*.t) .ci/run \
	$(wildcard tests/fuzz/*.sh)

.PHONY: all install uninstall clean check lint deps bench demo demo-stop demo-clean db sources fuzz check-valgrind
.PHONY: pipeline check-updates status
# The source ids, from the one list: config/sources.json (jq is installed by make deps).
# (SOURCES is the user's: make pipeline SOURCES="ivac dvf:2024".)
SOURCE_IDS := $(shell command -v jq >/dev/null 2>&1 && jq -r '.sources[].id' config/sources.json)
.PHONY: $(SOURCE_IDS)
.PHONY: FORCE
.SUFFIXES:

all: $(TOOLS)

# make SANITIZE=1: everything built with ASan and UBSan, the first report fatal (config.mk).
ifeq ($(SANITIZE),1)
CFLAGS += $(SANITIZE_FLAGS)
LDFLAGS += $(SANITIZE_FLAGS)
endif

# The compiler and flags the objects were built with: a change (SANITIZE=1, CC=clang) rebuilds.
BUILD_FLAGS = $(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)
.build-flags: FORCE
	@printf '%s\n' '$(BUILD_FLAGS)' | cmp -s - $@ || printf '%s\n' '$(BUILD_FLAGS)' >$@

# Each tool links only the libraries it needs, one explicit line each.
bin/edu-csv2tsv: LDLIBS = $(CSV_LIBS)
bin/edu-normalize: LDLIBS =
bin/edu-pgcopy: LDLIBS = $(PQ_LIBS) -lm
bin/edu-refresh: LDLIBS = $(PQ_LIBS)
bin/edu-fetch: LDLIBS = $(CURL_LIBS) $(CRYPTO_LIBS) $(PQ_LIBS)
bin/edu-ifmodified: LDLIBS = $(CURL_LIBS) $(CRYPTO_LIBS) $(PQ_LIBS)
bin/edu-notify: LDLIBS = $(CURL_LIBS)

bin/%: src/%.c $(LIB) src/lib/edu.h config.mk .build-flags
	@mkdir -p bin
	$(CC) $(CPPFLAGS) $(PQ_CFLAGS) -Isrc/lib $(CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) \
		$(LIB) $(LDLIBS)

# A tool's second file, and the tools that link one.
src/edu-%.o: src/edu-%.c src/lib/edu.h config.mk .build-flags
	$(CC) $(CPPFLAGS) $(PQ_CFLAGS) -Isrc/lib $(CFLAGS) -c -o $@ $<
src/edu-normalize-rules.o src/edu-normalize-map.o src/edu-normalize-infer.o: src/edu-normalize.h
bin/edu-normalize: src/edu-normalize-rules.o src/edu-normalize-map.o src/edu-normalize-infer.o \
	src/edu-normalize.h
src/edu-csv2tsv-io.o src/edu-csv2tsv-convert.o: src/edu-csv2tsv.h
bin/edu-csv2tsv: src/edu-csv2tsv-io.o src/edu-csv2tsv-convert.o src/edu-csv2tsv.h
src/edu-pgcopy-catalog.o src/edu-pgcopy-merge.o src/edu-pgcopy-swap.o: src/edu-pgcopy.h
bin/edu-pgcopy: src/edu-pgcopy-catalog.o src/edu-pgcopy-merge.o src/edu-pgcopy-swap.o \
	src/edu-pgcopy.h

src/lib/%.o: src/lib/%.c src/lib/edu.h config.mk .build-flags
	$(CC) $(CPPFLAGS) $(PQ_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

tests/unit/test-lib: tests/unit/test-lib.c $(LIB) src/lib/edu.h .build-flags
	$(CC) $(CPPFLAGS) -Isrc/lib $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB)

# ---- Fuzzing (tests/fuzz/, docs/RELIABILITY.md) ----
# Each harness is built twice from the same sources with -DEDU_FUZZ: with tests/fuzz/replay.c as
# its main and the build's compiler and flags, for `make check` to replay the seeds and the kept
# crashes (under SANITIZE=1 too); and with clang's libFuzzer, ASan and UBSan for `make fuzz`.
FUZZERS = csv2tsv tsv map rules infer
FR = tests/fuzz/build/replay
FL = tests/fuzz/build/libfuzzer
FUZZ_REPLAY = $(FUZZERS:%=$(FR)/fuzz-%)
FUZZ_BIN = $(FUZZERS:%=$(FL)/fuzz-%)
FUZZ_HEADERS = $(wildcard src/*.h src/lib/*.h tests/fuzz/*.h)
FUZZ_CPPFLAGS = $(CPPFLAGS) -DEDU_FUZZ $(PQ_CFLAGS) -Isrc -Isrc/lib -Itests/fuzz

# Kept between builds (make deletes the objects a pattern rule made on the way otherwise).
.SECONDARY: $(patsubst %,$(FR)/tests/fuzz/%.o,$(FUZZERS) fuzz replay) \
	$(patsubst %,$(FL)/tests/fuzz/%.o,$(FUZZERS) fuzz)

# fuzz_build DIR,CC,CFLAGS,MAIN,LINKFLAGS,DEPS: the rules of one of the two builds, written once:
# objects, library and harnesses under DIR, compiled with CC and CFLAGS (DEPS: rebuilt when the
# build's flags change), linked with MAIN (the replay's main; libFuzzer brings its own) and
# LINKFLAGS; then the parts of a tool each harness links, one line each.
define fuzz_build
$(1)/%.o: %.c $$(FUZZ_HEADERS) config.mk $(6)
	@mkdir -p $$(@D)
	$(2) $$(FUZZ_CPPFLAGS) $(3) -c -o $$@ $$<
$(1)/libedu.a: $$(LIBSRC:%.c=$(1)/%.o)
	rm -f $$@
	ar rcs $$@ $$^
$(1)/fuzz-%: $(1)/tests/fuzz/%.o $(1)/tests/fuzz/fuzz.o $(4) $(1)/libedu.a
	$(2) $(5) -o $$@ $$(filter %.o,$$^) $(1)/libedu.a $$(LDLIBS)
$(1)/fuzz-csv2tsv: LDLIBS = $$(CSV_LIBS)
$(1)/fuzz-csv2tsv: $(1)/src/edu-csv2tsv-convert.o $(1)/src/edu-csv2tsv-io.o
$(1)/fuzz-map: $(1)/src/edu-normalize-map.o $(1)/src/edu-normalize-rules.o
$(1)/fuzz-rules: $(1)/src/edu-normalize-rules.o
$(1)/fuzz-infer: $(1)/src/edu-normalize-infer.o $(1)/src/edu-normalize-map.o \
	$(1)/src/edu-normalize-rules.o
endef
$(eval $(call fuzz_build,$(FR),$$(CC),$$(CFLAGS),$(FR)/tests/fuzz/replay.o,$$(CFLAGS) $$(LDFLAGS),.build-flags))
$(eval $(call fuzz_build,$(FL),$$(FUZZ_CC),$$(FUZZ_CFLAGS),,$$(FUZZ_CFLAGS) -fsanitize=fuzzer,))

# Runs each harness for FUZZ_SECONDS on tests/fuzz/corpus/NAME (made, not committed), seeded
# from tests/fuzz/seeds/NAME; fails on any crash, hang or sanitizer report (tests/fuzz/run.sh).
fuzz: deps $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

# What a run needs, with the project directory gone: the tools and pages, and under DATADIR the
# scripts and mapping files, the sources config, the migrations, the schedules (deploy/, with
# the installed paths, a unit's drop-in directory too) and .env.example. lib.sh learns where the
# tools are, for cron's short PATH.
RUNSCRIPTS = $(filter-out pipelines/demo.sh,$(wildcard pipelines/*.sh))
install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	cp -f $(TOOLS) $(DESTDIR)$(BINDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp -f $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	mkdir -p $(DESTDIR)$(DATADIR)/pipelines $(DESTDIR)$(DATADIR)/config $(DESTDIR)$(DATADIR)/sql \
		$(DESTDIR)$(DATADIR)/deploy
	cp -f $(RUNSCRIPTS) pipelines/*.map pipelines/*.jq $(DESTDIR)$(DATADIR)/pipelines/
	sed 's|^EDU_BINDIR=$$|EDU_BINDIR=$(BINDIR)|' pipelines/lib.sh >$(DESTDIR)$(DATADIR)/pipelines/lib.sh
	cp -f config/sources.json $(DESTDIR)$(DATADIR)/config/
	cp -f sql/*.sql sql/migrate.sh $(DESTDIR)$(DATADIR)/sql/
	for f in deploy/* deploy/*.d/*; do \
		if [ -d $$f ]; then mkdir -p $(DESTDIR)$(DATADIR)/$$f && continue || exit; fi; \
		sed -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' $$f >$(DESTDIR)$(DATADIR)/$$f || exit; \
	done
	cp -f .env.example $(DESTDIR)$(DATADIR)/

uninstall:
	for f in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$${f#bin/}; done
	for f in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$${f#man/}; done
	for f in $(MAN7); do rm -f $(DESTDIR)$(MANDIR)/man7/$${f#man/}; done
	rm -rf $(DESTDIR)$(DATADIR)/pipelines $(DESTDIR)$(DATADIR)/sql $(DESTDIR)$(DATADIR)/deploy
	rm -f $(DESTDIR)$(DATADIR)/config/sources.json $(DESTDIR)$(DATADIR)/.env.example
	-rmdir $(DESTDIR)$(DATADIR)/config $(DESTDIR)$(DATADIR) 2>/dev/null

clean:
	rm -f $(TOOLS) $(LIBOBJ) $(LIB) $(PARTS:.c=.o) tests/unit/test-lib .build-flags
	rm -rf tests/tmp tests/fuzz/build

# Installs the Debian packages listed in config.mk that are missing; silent when all are present.
deps:
	@sh tests/deps.sh $(DEBS)

check: deps all tests/unit/test-lib $(FUZZ_REPLAY)
	@EDU_SANITIZE=$(SANITIZE) sh tests/run.sh

# Only the memory checks of make check: the unit tests and the filters under valgrind
# (tests/t/0810-memory.t; with SANITIZE=1, under LeakSanitizer instead).
check-valgrind: deps all tests/unit/test-lib
	@EDU_SANITIZE=$(SANITIZE) sh tests/run.sh tests/t/0810-memory.t

lint: all
	mandoc -Tlint -Wwarning $(MAN1) $(MAN7)
	shellcheck -x $(SHELLSCRIPTS)
	yamllint -s .github/workflows
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -Isrc/lib src
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -DEDU_FUZZ -Isrc -Isrc/lib tests/fuzz
	clang-format --dry-run --Werror src/*.c src/*.h src/lib/*.c src/lib/*.h tests/unit/*.c \
		tests/fuzz/*.c tests/fuzz/*.h

bench: deps all
	@sh tests/deps.sh $(BENCH_DEBS)
	@sh tests/bench.sh

demo: deps all
	@sh pipelines/demo.sh

demo-stop:
	@sh pipelines/demo.sh stop

# The demo's database stopped and removed wherever it lives, then .demo; `make clean` keeps them.
demo-clean:
	@sh pipelines/demo.sh clean

# Applies sql/ in order (idempotent); connection from DATABASE_URL or libpq's environment, and
# the settings file (.env, or EDU_ENV) for these and the targets below.
db:
	@bash pipelines/env.sh sh sql/migrate.sh

# The production job (pipelines/refresh.sh): what changed is loaded, the team told. SOURCES
# limits it to some units: make pipeline SOURCES="ivac dvf:2024".
pipeline: all
	@bash pipelines/refresh.sh $(SOURCES)

# What changed upstream, said and recorded in the history; nothing is downloaded or loaded.
check-updates: all
	@bash pipelines/refresh.sh -u $(SOURCES)

# The freshness report on the terminal and in docs/DATA_SOURCES_STATUS.md (exit 2 when a source
# is STALE or FAILING).
status:
	@bash pipelines/status.sh

# A new source drafted from a sample of its publisher's CSV file (pipelines/new-source.sh,
# docs/sources.md): make new-source ID=geoloc SAMPLE=sample.csv URL=https://... [TABLE=] [KEY=]
new-source: all
	@test -n '$(ID)' && test -n '$(SAMPLE)' && test -n '$(URL)' || { echo \
		'usage: make new-source ID=id SAMPLE=file.csv URL=https://... [TABLE=table] [KEY=column]' >&2; \
		exit 64; }
	@bash pipelines/new-source.sh $(if $(TABLE),-t '$(TABLE)') $(if $(KEY),-k '$(KEY)') '$(ID)' \
		'$(SAMPLE)' '$(URL)'

# One source end to end (download, convert, load, refresh its views): make ivac, make dvf, ...
# one target per id of config/sources.json; make sources lists them. Connection from
# DATABASE_URL or libpq's environment; EDU_SOURCES selects another sources.json for the scripts.
sources:
	@jq -r '.sources[] | .id + "\t" + .name' config/sources.json

$(SOURCE_IDS): all
	@bash pipelines/$@.sh
