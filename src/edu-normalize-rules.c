/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The value rules of edu-normalize: each one checks a single trimmed value and writes its
 * canonical form (numbers with '.', ISO dates, padded codes), or says why it cannot. They work
 * on bytes and never call setlocale, so the result is the same under every locale. They do not
 * know about NULL, null tokens or rows: src/edu-normalize.c handles those.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edu-normalize.h"

static const struct {
	const char *name;
	enum norm_rule rule;
} rules[] = {
    {"raw", NORM_RAW},       {"keep", NORM_RAW},        {"text", NORM_TEXT},
    {"int", NORM_INT},       {"decimal", NORM_DECIMAL}, {"date", NORM_DATE},
    {"year", NORM_YEAR},     {"bool", NORM_BOOL},       {"percent", NORM_PERCENT},
    {"uai", NORM_UAI},       {"insee", NORM_INSEE},     {"dept", NORM_DEPT},
    {"postal", NORM_POSTAL}, {"lon", NORM_LON},         {"lat", NORM_LAT},
    {"epsg", NORM_EPSG},     {"siret", NORM_SIRET},     {"commune_in_dept", NORM_COMMUNE_IN_DEPT},
    {"list", NORM_LIST},
};

int norm_rule_find(const char *name)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].name, name) == 0)
			return (int)rules[i].rule;
	return -1;
}

const char *norm_rule_name(enum norm_rule rule)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].rule == rule)
			return rules[i].name;
	return "?";
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return n > 0;
}

/*
 * Byte length of a space-like character at s[i]: the ones French exports use as thousands
 * separators (space, U+00A0, U+202F) and, when any is set, the ASCII control blanks too.
 */
static size_t space_len(const char *s, size_t n, size_t i, int any)
{
	unsigned char c = (unsigned char)s[i];

	if (c == ' ')
		return 1;
	if (any && (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'))
		return 1;
	if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0)
		return 2;
	if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] == 0xaf)
		return 3;
	return 0;
}

/* The last blank character ending at s[n-1], as a byte length (0 when none). */
static size_t space_len_back(const char *s, size_t n)
{
	if (n >= 1 && space_len(s, n, n - 1, 1) == 1)
		return 1;
	if (n >= 2 && space_len(s, n, n - 2, 1) == 2)
		return 2;
	if (n >= 3 && space_len(s, n, n - 3, 1) == 3)
		return 3;
	return 0;
}

size_t norm_trim(const char *s, size_t n, size_t *start)
{
	size_t i = 0, b;

	while (i < n && (b = space_len(s, n, i, 1)) > 0)
		i += b;
	while (n > i && (b = space_len_back(s, n)) > 0)
		n -= b;
	*start = i;
	return n - i;
}

/*
 * Runs of blanks inside v (tabs and line ends too) become one space, into dst; with quote, '"'
 * and '\\' are escaped by a backslash, as inside an element of a PostgreSQL array literal.
 * Returns the bytes written.
 */
static size_t fold_blanks(const char *v, size_t n, char *dst, int quote)
{
	size_t o = 0, b;
	int gap = 0;

	for (size_t i = 0; i < n;) {
		if ((b = space_len(v, n, i, 1)) > 0) {
			gap = 1;
			i += b;
			continue;
		}
		if (gap)
			dst[o++] = ' ';
		gap = 0;
		if (quote && (v[i] == '"' || v[i] == '\\'))
			dst[o++] = '\\';
		dst[o++] = v[i++];
	}
	return o;
}

static const char *rule_text(const char *v, size_t n, char *dst, size_t *dn)
{
	*dn = fold_blanks(v, n, dst, 0);
	return NULL;
}

struct number {
	int frac_nonzero; /* a fraction with a digit other than 0 */
	int exponent;
	size_t int_end; /* where the integer digits of dst end */
	double value;
};

/*
 * Parses "1 234,56", "1234.56", "-.5", "1e-3" (spaces, U+00A0 or U+202F as thousands
 * separators, in groups of three) into dst as [-]digits[.digits][e[-]digits] with the
 * redundant leading zeros dropped, and its value when want_value is set. Returns 0 when v is
 * not such a number.
 */
static int parse_number(const char *v, size_t n, char *dst, size_t *dn, struct number *num,
                        int want_value)
{
	size_t i = 0, o = 0, istart, nint, nfrac = 0, group = 0, b;
	int neg = 0, grouped = 0, nonzero = 0;

	memset(num, 0, sizeof(*num));
	if (i < n && (v[i] == '+' || v[i] == '-'))
		neg = v[i++] == '-';
	if (neg)
		dst[o++] = '-';
	istart = o;
	while (i < n) {
		if (is_digit(v[i])) {
			nonzero |= v[i] != '0';
			dst[o++] = v[i++];
			group++;
			continue;
		}
		b = space_len(v, n, i, 0);
		if (b == 0 || group == 0 || group > 3 || (grouped && group != 3))
			break;
		grouped = 1;
		group = 0;
		i += b;
		if (i == n || !is_digit(v[i]))
			return 0;
	}
	if (grouped && group != 3)
		return 0;
	nint = o - istart;
	if (nint == 0) {
		dst[o++] = '0';
	} else {
		size_t z = 0;

		while (z + 1 < nint && dst[istart + z] == '0')
			z++;
		memmove(dst + istart, dst + istart + z, nint - z);
		o -= z;
	}
	num->int_end = o;
	if (i < n && (v[i] == ',' || v[i] == '.')) {
		i++;
		dst[o++] = '.';
		while (i < n && is_digit(v[i])) {
			num->frac_nonzero |= v[i] != '0';
			dst[o++] = v[i++];
			nfrac++;
		}
		if (nfrac == 0)
			o--;
	}
	if (nint == 0 && nfrac == 0)
		return 0;
	nonzero |= num->frac_nonzero;
	if (i < n && (v[i] == 'e' || v[i] == 'E')) {
		size_t nexp = 0;

		num->exponent = 1;
		dst[o++] = 'e';
		if (++i < n && (v[i] == '+' || v[i] == '-')) {
			if (v[i] == '-')
				dst[o++] = '-';
			i++;
		}
		while (i < n && is_digit(v[i])) {
			dst[o++] = v[i++];
			nexp++;
		}
		if (nexp == 0)
			return 0;
	}
	if (i != n)
		return 0;
	if (neg && !nonzero) { /* "-0,0" is zero: no sign */
		memmove(dst, dst + 1, --o);
		num->int_end--;
	}
	dst[o] = '\0';
	if (want_value) /* strtod is the slowest step: only range checks need it */
		num->value = strtod(dst, NULL);
	*dn = o;
	return 1;
}

static const char *rule_int(const char *v, size_t n, char *dst, size_t *dn)
{
	struct number num;
	long long x;

	if (!parse_number(v, n, dst, dn, &num, 0) || num.exponent || num.frac_nonzero)
		return "int needs a whole number";
	/* "1,000" or "1.000" is a thousand with a separator as often as a one with decimals. */
	if (*dn == num.int_end + 4)
		return "int: a separator followed by three zeros is ambiguous (1,000: one or a "
		       "thousand?)";
	*dn = num.int_end;
	dst[*dn] = '\0';
	errno = 0;
	x = strtoll(dst, NULL, 10);
	if (errno == ERANGE || x < -2147483648LL || x > 2147483647LL)
		return "int out of range -2147483648..2147483647";
	return NULL;
}

static const char *rule_decimal(const char *v, size_t n, char *dst, size_t *dn)
{
	struct number num;

	if (!parse_number(v, n, dst, dn, &num, 0))
		return "decimal needs a number such as 1234.5 or 1 234,5";
	return NULL;
}

static const char *rule_percent(const char *v, size_t n, char *dst, size_t *dn)
{
	struct number num;
	size_t b;

	if (n > 0 && v[n - 1] == '%') {
		n--;
		while ((b = space_len_back(v, n)) > 0)
			n -= b;
	}
	if (!parse_number(v, n, dst, dn, &num, 1) || num.value < 0 || num.value > 100)
		return "percent needs a number from 0 to 100";
	return NULL;
}

static const char *rule_range(const char *v, size_t n, char *dst, size_t *dn, double lim,
                              const char *why)
{
	struct number num;

	if (!parse_number(v, n, dst, dn, &num, 1) || num.value < -lim || num.value > lim)
		return why;
	return NULL;
}

static int num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Parses digits s[*i..] of at least min and at most max digits into *x. */
static int digits(const char *s, size_t n, size_t *i, size_t min, size_t max, int *x)
{
	size_t k = 0;

	*x = 0;
	while (*i < n && k < max && is_digit(s[*i])) {
		*x = *x * 10 + (s[(*i)++] - '0');
		k++;
	}
	return k >= min;
}

/* "hh:mm[:ss[.fff]][Z|+hh[:mm]|-hh[:mm]]" to the end of s. */
static int valid_time(const char *s, size_t n)
{
	size_t i = 0;
	int h, m, sec, z;

	if (!digits(s, n, &i, 2, 2, &h) || h > 24 || i >= n || s[i++] != ':' ||
	    !digits(s, n, &i, 2, 2, &m) || m > 59)
		return 0;
	if (i < n && s[i] == ':') {
		i++;
		if (!digits(s, n, &i, 2, 2, &sec) || sec > 60)
			return 0;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			i++;
			if (!digits(s, n, &i, 1, 9, &z))
				return 0;
		}
	}
	if (i < n && s[i] == 'Z')
		i++;
	else if (i < n && (s[i] == '+' || s[i] == '-')) {
		i++;
		if (!digits(s, n, &i, 2, 2, &h) || h > 14)
			return 0;
		if (i < n && s[i] == ':')
			i++;
		if (i < n && (!digits(s, n, &i, 2, 2, &m) || m > 59))
			return 0;
	}
	return i == n;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * Reads dd/mm/yyyy, yyyy-mm-dd or an ISO datetime (its date as written, no time-zone
 * shift). Returns 1 and sets y, m, d; 0 for another shape; -1 for a day that does not exist.
 */
static int parse_date(const char *v, size_t n, int *y, int *m, int *d)
{
	size_t i = 0;

	if (n >= 8 && (v[1] == '/' || v[2] == '/')) {
		if (!digits(v, n, &i, 1, 2, d) || i >= n || v[i++] != '/' ||
		    !digits(v, n, &i, 1, 2, m) || i >= n || v[i++] != '/' ||
		    !digits(v, n, &i, 4, 4, y) || i != n)
			return 0;
	} else if (n >= 10 && v[4] == '-' && v[7] == '-') {
		if (!all_digits(v, 4) || !all_digits(v + 5, 2) || !all_digits(v + 8, 2))
			return 0;
		*y = num2(v) * 100 + num2(v + 2);
		*m = num2(v + 5);
		*d = num2(v + 8);
		if (n > 10 && ((v[10] != 'T' && v[10] != ' ') || !valid_time(v + 11, n - 11)))
			return 0;
	} else {
		return 0;
	}
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	return 1;
}

static void put4(char *dst, int x)
{
	dst[0] = (char)('0' + x / 1000);
	dst[1] = (char)('0' + x / 100 % 10);
	dst[2] = (char)('0' + x / 10 % 10);
	dst[3] = (char)('0' + x % 10);
}

static const char *rule_date(const char *v, size_t n, char *dst, size_t *dn)
{
	int y, m, d, got = parse_date(v, n, &y, &m, &d);

	if (got == 0)
		return "date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime";
	if (got < 0)
		return "date does not exist in the calendar";
	put4(dst, y);
	dst[4] = '-';
	dst[5] = (char)('0' + m / 10);
	dst[6] = (char)('0' + m % 10);
	dst[7] = '-';
	dst[8] = (char)('0' + d / 10);
	dst[9] = (char)('0' + d % 10);
	*dn = 10;
	return NULL;
}

static const char *rule_year(const char *v, size_t n, char *dst, size_t *dn)
{
	int y, m, d, got;

	if (n == 4 && all_digits(v, 4)) {
		memcpy(dst, v, 4);
		*dn = 4;
		return NULL;
	}
	got = parse_date(v, n, &y, &m, &d);
	if (got == 0)
		return "year needs a 4-digit year or a date";
	if (got < 0)
		return "year: date does not exist in the calendar";
	put4(dst, y);
	*dn = 4;
	return NULL;
}

static const char *rule_bool(const char *v, size_t n, char *dst, size_t *dn)
{
	static const char *const yes[] = {"oui", "o", "1", "true", "t", "vrai", "yes", "y"};
	static const char *const no[] = {"non", "n", "0", "false", "f", "faux", "no"};
	char low[8];

	if (n >= sizeof(low))
		return "bool needs oui/non, o/n, 1/0, true/false or vrai/faux";
	for (size_t i = 0; i < n; i++)
		low[i] = to_lower(v[i]);
	low[n] = '\0';
	*dn = 1;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(low, yes[i]) == 0) {
			dst[0] = 't';
			return NULL;
		}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcmp(low, no[i]) == 0) {
			dst[0] = 'f';
			return NULL;
		}
	return "bool needs oui/non, o/n, 1/0, true/false or vrai/faux";
}

static const char *rule_uai(const char *v, size_t n, char *dst, size_t *dn)
{
	static const char letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
	static char why[64];
	long x;

	if (n != 8 || !all_digits(v, 7) || to_upper(v[7]) < 'A' || to_upper(v[7]) > 'Z')
		return "uai needs 7 digits and a check letter";
	memcpy(dst, v, 7);
	dst[7] = to_upper(v[7]);
	dst[8] = '\0';
	x = strtol(dst, NULL, 10);
	if (dst[7] != letters[x % 23]) {
		snprintf(why, sizeof(why), "uai check letter should be %c", letters[x % 23]);
		return why;
	}
	*dn = 8;
	return NULL;
}

static const char *rule_insee(const char *v, size_t n, char *dst, size_t *dn)
{
	static const char why[] = "insee needs a 5-character commune code such as 01001 or 2A004";
	size_t o = 0;

	/* A spreadsheet can only have eaten one zero: no commune code starts with 00. */
	if (n == 4 && all_digits(v, 4))
		dst[o++] = '0';
	else if (n != 5)
		return why;
	for (size_t i = 0; i < n; i++)
		dst[o++] = to_upper(v[i]);
	if (!(all_digits(dst, 5) ||
	      (dst[0] == '2' && (dst[1] == 'A' || dst[1] == 'B') && all_digits(dst + 2, 3))) ||
	    (dst[0] == '0' && dst[1] == '0'))
		return why;
	*dn = 5;
	return NULL;
}

static const char *rule_dept(const char *v, size_t n, char *dst, size_t *dn)
{
	char c[3];

	if (n == 0 || n > 3)
		return "dept needs a département code such as 01, 2A or 971";
	for (size_t i = 0; i < n; i++)
		c[i] = to_upper(v[i]);
	if (n == 3 && c[0] == '0') { /* the annuaire writes 035 and 02A */
		c[0] = c[1];
		c[1] = c[2];
		n = 2;
	}
	if (n == 1 && is_digit(c[0]) && c[0] != '0') {
		dst[0] = '0';
		dst[1] = c[0];
		*dn = 2;
		return NULL;
	}
	if ((n == 2 && all_digits(c, 2) && !(c[0] == '0' && c[1] == '0')) ||
	    (n == 2 && c[0] == '2' && (c[1] == 'A' || c[1] == 'B')) ||
	    (n == 3 && c[0] == '9' && (c[1] == '7' || c[1] == '8') && is_digit(c[2]))) {
		memcpy(dst, c, n);
		*dn = n;
		return NULL;
	}
	return "dept needs a département code such as 01, 2A or 971";
}

static const char *rule_postal(const char *v, size_t n, char *dst, size_t *dn)
{
	if (!all_digits(v, n) || n < 4 || n > 5 || (v[0] == '0' && (n == 4 || v[1] == '0')))
		return "postal needs a 5-digit postal code";
	/* As for INSEE codes, only one leading zero can have been lost. */
	*dn = 0;
	if (n == 4)
		dst[(*dn)++] = '0';
	memcpy(dst + *dn, v, n);
	*dn += n;
	return NULL;
}

static const char *rule_epsg(const char *v, size_t n, char *dst, size_t *dn)
{
	if (n > 5 && strncmp(v, "EPSG:", 5) == 0) {
		v += 5;
		n -= 5;
	}
	if (!all_digits(v, n) || n > 6 || v[0] == '0')
		return "epsg needs a code such as 2154 or EPSG:2154";
	memcpy(dst, v, n);
	*dn = n;
	return NULL;
}

/*
 * A SIRET is 14 digits (SIREN 9 + NIC 5), written grouped by blanks as often as not. INSEE makes
 * it pass the Luhn check, except for La Poste's establishments (SIREN 356000000), whose digits
 * sum to a multiple of 5 instead: a mistyped or cut number is caught here, not in a join.
 */
static const char *rule_siret(const char *v, size_t n, char *dst, size_t *dn)
{
	size_t o = 0, b;
	int sum = 0, digits = 0;

	for (size_t i = 0; i < n;) {
		if ((b = space_len(v, n, i, 0)) > 0) {
			i += b;
			continue;
		}
		if (!is_digit(v[i]) || o == 14)
			return "siret needs 14 digits";
		dst[o++] = v[i++];
	}
	if (o != 14)
		return "siret needs 14 digits";
	for (size_t i = 0; i < 14; i++) {
		int d = dst[13 - i] - '0';

		digits += d;
		if (i % 2 == 1 && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	if (memcmp(dst, "356000000", 9) == 0 ? digits % 5 != 0 : sum % 10 != 0)
		return "siret check digit is wrong (Luhn)";
	*dn = 14;
	return NULL;
}

/* One list item, trimmed, as a quoted array element: blanks folded as by text, " and \ escaped. */
static size_t list_item(const char *v, size_t n, char *dst)
{
	size_t o = 1;

	dst[0] = '"';
	o += fold_blanks(v, n, dst + 1, 1);
	dst[o++] = '"';
	return o;
}

const char *norm_list(char sep, const char *v, size_t n, char *dst, size_t *dn)
{
	size_t o = 0, items = 0;

	dst[o++] = '{';
	for (size_t i = 0; i <= n;) {
		const char *e = i < n ? memchr(v + i, sep, n - i) : NULL;
		size_t end = e ? (size_t)(e - v) : n, start,
		       len = norm_trim(v + i, end - i, &start);

		if (len > 0) {
			if (items++)
				dst[o++] = ',';
			o += list_item(v + i + start, len, dst + o);
		}
		i = end + 1;
	}
	dst[o++] = '}';
	*dn = o;
	return NULL;
}

const char *norm_apply(enum norm_rule rule, const char *v, size_t n, char *dst, size_t *dn)
{
	switch (rule) {
	case NORM_RAW:
		memcpy(dst, v, n);
		*dn = n;
		return NULL;
	case NORM_TEXT:
		return rule_text(v, n, dst, dn);
	case NORM_INT:
		return rule_int(v, n, dst, dn);
	case NORM_DECIMAL:
		return rule_decimal(v, n, dst, dn);
	case NORM_DATE:
		return rule_date(v, n, dst, dn);
	case NORM_YEAR:
		return rule_year(v, n, dst, dn);
	case NORM_BOOL:
		return rule_bool(v, n, dst, dn);
	case NORM_PERCENT:
		return rule_percent(v, n, dst, dn);
	case NORM_UAI:
		return rule_uai(v, n, dst, dn);
	case NORM_INSEE:
		return rule_insee(v, n, dst, dn);
	case NORM_DEPT:
		return rule_dept(v, n, dst, dn);
	case NORM_POSTAL:
		return rule_postal(v, n, dst, dn);
	case NORM_LON:
		return rule_range(v, n, dst, dn, 180, "lon needs a number from -180 to 180");
	case NORM_LAT:
		return rule_range(v, n, dst, dn, 90, "lat needs a number from -90 to 90");
	case NORM_EPSG:
		return rule_epsg(v, n, dst, dn);
	case NORM_SIRET:
		return rule_siret(v, n, dst, dn);
	case NORM_COMMUNE_IN_DEPT:
	case NORM_LIST:
		break;
	}
	return "internal error: rule needs its argument";
}

/*
 * Etalab's DVF rule: a 2-character département takes the commune number padded to 3, a
 * 3-character one (97x) padded to 2. A 3-digit number after a 97x département is accepted
 * only when it repeats the département's last digit (105 in 971), which makes 97105 either way.
 */
const char *norm_commune_in_dept(const char *dept, size_t dn, const char *v, size_t n, char *dst,
                                 size_t *len)
{
	size_t width = dn == 3 ? 2 : 3;

	if (!all_digits(v, n) || n > 3)
		return "commune_in_dept needs a commune number of 1 to 3 digits";
	memcpy(dst, dept, dn);
	*len = dn;
	if (n == 3 && width == 2) {
		if (v[0] != dept[2])
			return "commune_in_dept number does not belong to this département";
		v++;
		n--;
	}
	for (size_t k = n; k < width; k++)
		dst[(*len)++] = '0';
	memcpy(dst + *len, v, n);
	*len += n;
	return NULL;
}
