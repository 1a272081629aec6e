# eduinfo-pipeline build configuration: edit here, not in the Makefile.
VERSION = 0.1.0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/eduinfo-pipeline

CC = cc
CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DEDU_VERSION=\"$(VERSION)\"
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral
LDFLAGS =

# make check SANITIZE=1: every binary with AddressSanitizer and UndefinedBehaviorSanitizer, the
# first report fatal (gcc or clang). make fuzz: clang's libFuzzer, FUZZ_SECONDS per harness.
SANITIZE =
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_CC = clang
FUZZ_CFLAGS = $(CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
FUZZ_SECONDS = 60

# Per-library flags: each tool links only what it uses (see the Makefile).
PQ_CFLAGS = -I/usr/include/postgresql
PQ_LIBS = -lpq
CURL_LIBS = -lcurl
CSV_LIBS = -lcsv
CRYPTO_LIBS = -lcrypto

# Debian 12 packages the project needs to build, test, lint, bench and demo (see README.md).
DEBS = build-essential clang libclang-rt-14-dev clang-format cppcheck mandoc shellcheck valgrind \
	libcsv-dev libcurl4-openssl-dev libpq-dev libssl-dev \
	postgresql-15 postgresql-15-postgis-3 postgresql-client-15 \
	jq parallel python3 python3-aiosmtpd ca-certificates curl gzip bsdextrautils unzip logrotate yamllint strace
BENCH_DEBS = miller pgloader time
