// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: the stats file (docs/stats.md) read whole into key-value pairs,
 * and the numbers in it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "hvoctl.h"

struct stat_kv *stats;
size_t nr_stats;
static size_t max_stats;
const char *stats_path = STATS;
bool stats_path_test;	/* HVOCTL_STATS: a file standing in for it */

/*
 * An integer as the kernel prints one, and as JSON allows it: an optional
 * minus, then 0 or digits without a leading zero. Not "+5", "007", "1e3",
 * "0x10".
 */
static bool is_canonical_int(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		return s[1] == '\0';
	if (*s < '1' || *s > '9')
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* A canonical integer that fits a long long; false otherwise. */
bool parse_ll(const char *s, long long *v)
{
	char *end;

	if (!is_canonical_int(s))
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && !*end;
}

/* A canonical integer from 0 to 2^64 - 1; false otherwise. */
bool parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (*s == '-' || !is_canonical_int(s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/*
 * A canonical integer from -2^63 to 2^64 - 1, as the kernel prints its
 * s64 and u64 counters; its value modulo 2^64, for unsigned sums.
 */
bool parse_int64(const char *s, unsigned long long *v)
{
	long long n;

	if (parse_u64(s, v))
		return true;
	if (!parse_ll(s, &n))
		return false;
	*v = n;
	return true;
}

/*
 * Consume [0-9]+ at *p: 1 and its value if at most max, -1 if above max
 * (checked before the next digit could wrap it), 0 if no digit. Every
 * digit is consumed either way.
 */
int take_uint(const char **p, unsigned long max, unsigned long *v)
{
	const char *s = *p;
	unsigned long n = 0;
	bool over = false;

	if (!isdigit((unsigned char)*s))
		return 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (over || n > max / 10 || d > max - n * 10)
			over = true;
		else
			n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return over ? -1 : 1;
}

/*
 * The length of the valid UTF-8 sequence at s (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), 0 if there is none.
 */
size_t utf8_len(const unsigned char *s)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void free_stats(void)
{
	for (size_t i = 0; i < nr_stats; i++)
		free(stats[i].key);
	nr_stats = 0;
}

/* Keep "key value"; key and value share one allocation. */
static int add_stat(const char *line, size_t key_len)
{
	char *copy;

	if (nr_stats == max_stats) {
		size_t n = max_stats ? 2 * max_stats : 256;
		struct stat_kv *grown = realloc(stats, n * sizeof(*stats));

		if (!grown)
			return fail(EXIT_ERROR, "out of memory");
		stats = grown;
		max_stats = n;
	}
	copy = strdup(line);
	if (!copy)
		return fail(EXIT_ERROR, "out of memory");
	copy[key_len] = '\0';
	stats[nr_stats].key = copy;
	stats[nr_stats].value = copy + key_len + 1;
	nr_stats++;
	return EXIT_OK;
}

/* One line, newline stripped: "key value", nothing else (docs/stats.md). */
static int parse_line(char *line, size_t len, size_t lineno)
{
	char *sp;

	if (!len || line[len - 1] != '\n')
		return fail(EXIT_ERROR, "%s:%zu: line cut short (no newline)", stats_path, lineno);
	line[--len] = '\0';
	if (strlen(line) != len)
		return fail(EXIT_ERROR, "%s:%zu: line contains a NUL byte", stats_path, lineno);
	sp = strchr(line, ' ');
	if (!sp || sp == line || !sp[1])
		return fail(EXIT_ERROR, "%s:%zu: not a 'key value' line: '%s'",
			    stats_path, lineno, line);
	return add_stat(line, sp - line);
}

/*
 * Read the whole stats file; any error, including one after part of it was
 * read, fails. HVOCTL_STATS names another file, for tests: then debugfs and
 * the module are not required.
 */
int read_stats(void)
{
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	ssize_t len;
	int code = EXIT_OK, err;
	FILE *f;

	if (!stats_path_test) {
		struct statfs sfs;

		if (statfs(DEBUGFS, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
			return fail(EXIT_NO_DEBUGFS,
				    "debugfs is not mounted; mount it with: mount -t debugfs none " DEBUGFS);
		if (!module_loaded())
			return fail(EXIT_NOT_LOADED, "%s is not loaded (hvoctl load)", MODULE_NAME);
	}
	f = fopen(stats_path, "r");
	if (!f)
		return fail(EXIT_ERROR, "cannot read %s: %s", stats_path, strerror(errno));
	free_stats();
	errno = 0;
	while (!code && (len = getline(&line, &cap, f)) != -1) {
		code = parse_line(line, len, ++lineno);
		errno = 0;
	}
	err = errno;
	if (!code && ferror(f))
		code = fail(EXIT_ERROR, "cannot read %s: %s", stats_path,
			    strerror(err ? err : EIO));
	if (fclose(f) && !code)
		code = fail(EXIT_ERROR, "cannot read %s: %s", stats_path, strerror(errno));
	free(line);
	return code;
}

const char *stat_str(const char *key)
{
	for (size_t i = 0; i < nr_stats; i++)
		if (!strcmp(stats[i].key, key))
			return stats[i].value;
	return NULL;
}

/* A key the summary needs: present and an integer, or a loud failure. */
int stat_num(const char *key, long long *v)
{
	const char *s = stat_str(key);

	if (!s)
		return fail(EXIT_ERROR, "%s has no '%s' line", stats_path, key);
	if (!parse_ll(s, v))
		return fail(EXIT_ERROR, "%s: '%s' is not an integer: '%s'", stats_path, key, s);
	return EXIT_OK;
}

/* A counter the summary needs: present and from 0 to 2^64 - 1. */
int stat_u64(const char *key, unsigned long long *v)
{
	const char *s = stat_str(key);

	if (!s)
		return fail(EXIT_ERROR, "%s has no '%s' line", stats_path, key);
	if (!parse_u64(s, v))
		return fail(EXIT_ERROR, "%s: '%s' is not an integer: '%s'", stats_path, key, s);
	return EXIT_OK;
}

/* A counter of the last read_stats(), or 0 if absent or not a number. */
long long stat_or_zero(const char *key)
{
	const char *s = stat_str(key);
	long long v;

	return s && parse_ll(s, &v) ? v : 0;
}

/*
 * "nodeN.ZONE.orderK.FIELD" into its parts: 1; 0 for any other key (new
 * keys may appear, docs/stats.md); -1 for one whose node or order is above
 * MAX_NODES - 1 or MAX_ORDER_SEEN, however many digits it has.
 */
int split_key(const char *key, struct zone_key *k)
{
	const char *p = key, *dot;
	int node, order;

	if (strncmp(p, "node", 4))
		return 0;
	p += 4;
	/* Numbers as the kernel prints them: node01 is not node 1. */
	if (p[0] == '0' && isdigit((unsigned char)p[1]))
		return 0;

	node = take_uint(&p, MAX_NODES - 1, &k->node);
	if (!node || *p++ != '.')
		return 0;
	dot = strchr(p, '.');
	if (!dot || dot == p || strncmp(dot, ".order", 6))
		return 0;
	k->zone = p;
	k->zone_len = dot - p;
	p = dot + 6;
	if (p[0] == '0' && isdigit((unsigned char)p[1]))
		return 0;
	order = take_uint(&p, MAX_ORDER_SEEN, &k->order);
	if (!order || *p++ != '.')
		return 0;
	k->field = p;
	return node < 0 || order < 0 ? -1 : 1;
}

/*
 * sizeof(struct page) in the running kernel, from the module's
 * struct_page_bytes key; 0 when the module does not report it, and then
 * no percentage is computed rather than one from a guessed size.
 */
static int struct_page_bytes(long long *bytes)
{
	*bytes = 0;
	if (!stat_str("struct_page_bytes"))
		return EXIT_OK;
	if (stat_num("struct_page_bytes", bytes))
		return EXIT_ERROR;
	if (*bytes <= 0)
		return fail(EXIT_ERROR, "%s: struct_page_bytes is not positive", stats_path);
	return EXIT_OK;
}

int sum_nodes(struct node_sum *nodes, int *max)
{
	long long page_bytes;

	if (struct_page_bytes(&page_bytes))
		return EXIT_ERROR;
	memset(nodes, 0, sizeof(*nodes) * MAX_NODES);
	*max = -1;
	for (size_t i = 0; i < nr_stats; i++) {
		unsigned long long v;
		struct node_sum *n;
		struct zone_key k;
		int r = split_key(stats[i].key, &k);

		if (!r)
			continue;
		if (r < 0)
			return fail(EXIT_ERROR, "%s: node or order out of range in '%s'",
				    stats_path, stats[i].key);
		/* saved_bytes may be negative: summed modulo 2^64, read as signed. */
		if (!parse_int64(stats[i].value, &v))
			return fail(EXIT_ERROR, "%s: '%s' is not an integer: '%s'",
				    stats_path, stats[i].key, stats[i].value);
		n = &nodes[k.node];
		n->seen = true;
		if ((int)k.node > *max)
			*max = k.node;
		if (!strcmp(k.field, "folios_optimized")) {
			n->folios += v;
			/* A folio of order K has 2^K struct pages; double: no overflow. */
			n->vmemmap_bytes += (double)v * (double)(1ULL << k.order) * page_bytes;
		} else if (!strcmp(k.field, "vmemmap_pages_freed")) {
			n->freed += v;
		} else if (!strcmp(k.field, "vmemmap_pages_allocated")) {
			n->allocated += v;
		} else if (!strcmp(k.field, "shared_tail_pages")) {
			n->tails += v;
		} else if (!strcmp(k.field, "saved_bytes")) {
			n->saved += v;
		}
	}
	return EXIT_OK;
}
