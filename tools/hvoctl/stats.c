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

/* Consume [0-9]+ at *p, at most max: the numbers inside a stats key. */
bool take_uint(const char **p, unsigned long max, unsigned long *v)
{
	const char *s = *p;
	unsigned long n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		n = n * 10 + (*s - '0');
		if (n > max)
			return false;
	}
	*p = s;
	*v = n;
	return true;
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

/* A counter of the last read_stats(), or 0 if absent or not a number. */
long long stat_or_zero(const char *key)
{
	const char *s = stat_str(key);
	long long v;

	return s && parse_ll(s, &v) ? v : 0;
}

/*
 * "nodeN.ZONE.orderK.FIELD" into its parts; false for any other key (new
 * keys may appear, docs/stats.md). Numbers are bounded, never overflowed.
 */
static bool split_key(const char *key, unsigned long *nid, unsigned long *order,
		      const char **field)
{
	const char *p = key;

	if (strncmp(p, "node", 4))
		return false;
	p += 4;
	if (!take_uint(&p, ULONG_MAX / 10, nid) || *p++ != '.')
		return false;
	p = strchr(p, '.');
	if (!p || strncmp(p, ".order", 6))
		return false;
	p += 6;
	if (!take_uint(&p, ULONG_MAX / 10, order) || *p++ != '.')
		return false;
	*field = p;
	return true;
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
		unsigned long nid, order;
		const char *field;
		struct node_sum *n;
		long long v;

		if (!split_key(stats[i].key, &nid, &order, &field))
			continue;
		if (nid >= MAX_NODES || order > MAX_ORDER_SEEN)
			return fail(EXIT_ERROR, "%s: node or order out of range in '%s'",
				    stats_path, stats[i].key);
		if (!parse_ll(stats[i].value, &v))
			return fail(EXIT_ERROR, "%s: '%s' is not an integer: '%s'",
				    stats_path, stats[i].key, stats[i].value);
		n = &nodes[nid];
		n->seen = true;
		if ((int)nid > *max)
			*max = nid;
		if (!strcmp(field, "folios_optimized")) {
			n->folios += v;
			/* A folio of order K has 2^K struct pages; double: no overflow. */
			n->vmemmap_bytes += (double)v * (double)(1ULL << order) * page_bytes;
		} else if (!strcmp(field, "vmemmap_pages_freed")) {
			n->freed += v;
		} else if (!strcmp(field, "vmemmap_pages_allocated")) {
			n->allocated += v;
		} else if (!strcmp(field, "shared_tail_pages")) {
			n->tails += v;
		} else if (!strcmp(field, "saved_bytes")) {
			n->saved += v;
		}
	}
	return EXIT_OK;
}
