// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: stats --prometheus, a node_exporter textfile that promtool
 * check metrics accepts. Every family has HELP and TYPE; counters end in
 * _total. Keys this hvoctl does not know still become valid samples
 * (untyped, their names sanitized) or are dropped with a comment: a new
 * module never makes the scrape unparseable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvoctl.h"

#define PREFIX	"hvo_shared_"

/* A metric family from documented keys (docs/stats.md). */
struct family {
	const char *key;	/* the stats key; ending in '.', a prefix */
	const char *label;	/* for a prefix: the label its suffix goes in */
	bool counter;
	const char *help;
};

static const struct family families[] = {
	{ "struct_page_bytes", NULL, false, "sizeof(struct page) in the running kernel" },
	{ "folios_optimized", NULL, false, "Folios optimized by hvo_shared that still are" },
	{ "vmemmap_pages_freed", NULL, false, "Vmemmap pages the optimized folios gave back" },
	{ "vmemmap_pages_allocated", NULL, false,
	  "Pages allocated for the vmemmap: split page tables and head copies" },
	{ "shared_tail_pages", NULL, false, "Shared tail pages allocated (kept by the kernel)" },
	{ "saved_bytes", NULL, false, "Net vmemmap bytes saved; negative after a pool is gone" },
	{ "optimize_total", NULL, true, "Optimize attempts since load" },
	{ "optimize_failed", NULL, true, "Optimize attempts that failed since load" },
	{ "restore_total", NULL, true, "Restore attempts since load" },
	{ "restore_failed", NULL, true, "Restore attempts that found no memory since load" },
	{ "optimize_retried", NULL, true, "Folios retried after an out-of-memory since load" },
	{ "skipped_self_hosted", NULL, true,
	  "Folios not optimized as their vmemmap lives in their own memory block" },
	{ "restore_blocks", NULL, true, "Order-9 blocks restores took whole since load" },
	{ "restore_pages_filled", NULL, true,
	  "Vmemmap pages restores filled from one struct page since load" },
	{ "adopt_total", NULL, true, "Folios in use that adopt optimized since load" },
	{ "adopt_failed", NULL, true, "Folios in use whose adoption failed since load" },
	{ "adopt_skipped.", "reason", true, "Folios adopt left alone since load, by reason" },
	{ "restore_all_total", NULL, true, "Folios restore gave their vmemmap back since load" },
	{ "restore_all_failed", NULL, true, "Folios in use restore could not restore since load" },
	{ "restore_all_busy", NULL, true, "Optimized folios in use restore found busy since load" },
	{ "restore_all_inherited", NULL, true,
	  "Folios restored that an earlier load or the kernel's HVO optimized" },
	{ "injected.", "site", true, "Failures and delays injected by inject=, by site" },
};

/* The per-(node, zone, order) keys: hvo_shared_zone_KEY{node,zone,order}. */
static const struct family zone_families[] = {
	{ "folios_optimized", NULL, false, "Folios optimized, per node, zone and order" },
	{ "vmemmap_pages_freed", NULL, false, "Vmemmap pages freed, per node, zone and order" },
	{ "vmemmap_pages_allocated", NULL, false,
	  "Vmemmap pages allocated, per node, zone and order" },
	{ "shared_tail_pages", NULL, false, "Shared tail pages, per node, zone and order" },
	{ "saved_bytes", NULL, false, "Net vmemmap bytes saved, per node, zone and order" },
};

#define NR(a)	(sizeof(a) / sizeof((a)[0]))

/* Per stats line: printed, or dropped with a comment, already. */
static bool *done;
/*
 * Metric and info label names printed so far: none twice. Room for all is
 * taken at the start: each family head and each info label takes one,
 * and there are no more of them than lines plus known families.
 */
#define NAME_MAX_LEN	256
static char (*names)[NAME_MAX_LEN];
static size_t nr_names;

static bool name_taken(const char *name)
{
	for (size_t i = 0; i < nr_names; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static void take_name(const char *name)
{
	snprintf(names[nr_names++], NAME_MAX_LEN, "%s", name);
}

/*
 * A metric or label name from a key: lower case, [a-z0-9_] only, every
 * other byte '_'; "key_" first if it does not start with a letter. Names
 * cannot come out as one of the reserved "__" ones.
 */
static void sanitize(char *out, size_t size, const char *prefix, const char *key,
		     size_t len)
{
	size_t n = snprintf(out, size, "%s", prefix);

	if (!*prefix && !(*key >= 'a' && *key <= 'z') && !(*key >= 'A' && *key <= 'Z'))
		n += snprintf(out + n, size - n, "key_");
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		char c = key[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	out[n < size ? n : size - 1] = '\0';
}

/* A key in a comment: bytes outside [A-Za-z0-9_.] as '?'. */
static void print_key(const char *k)
{
	for (; *k; k++)
		putchar((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
			(*k >= '0' && *k <= '9') || *k == '_' || *k == '.' ? *k : '?');
}

static void drop(size_t i, const char *why)
{
	printf("# hvo_shared: dropped '");
	print_key(stats[i].key);
	printf("': %s\n", why);
	done[i] = true;
}

/*
 * A label value: backslash, quote and newline escaped, as the format
 * wants; a byte that is not UTF-8 becomes U+FFFD, as parsers refuse it.
 */
static void print_label(const char *name, const char *v, size_t len)
{
	printf("%s=\"", name);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len((const unsigned char *)v + i);

		if (v[i] == '\\' || v[i] == '"') {
			printf("\\%c", v[i]);
		} else if (v[i] == '\n') {
			fputs("\\n", stdout);
		} else if (!n || n > len - i) {
			fputs("\xef\xbf\xbd", stdout);
			n = 1;
		} else {
			fwrite(v + i, 1, n, stdout);
		}
		i += n ? n : 1;
	}
	putchar('"');
}

static void print_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	take_name(name);
}

/* A sample's value: an integer within 64 bits, as written, or not one. */
static bool is_number(const char *v)
{
	unsigned long long n;

	return parse_int64(v, &n);
}

/* The string values, as labels of hvo_shared_info. */
static void print_info(void)
{
	char label[NAME_MAX_LEN];
	bool first = true;

	print_head(PREFIX "info", "gauge", "hvo_shared version, kernel and state, as labels");
	printf(PREFIX "info{");
	for (size_t i = 0; i < nr_stats; i++) {
		if (done[i] || is_number(stats[i].value))
			continue;
		/* "{" keeps label names apart from metric names. */
		label[0] = '{';
		sanitize(label + 1, sizeof(label) - 1, "", stats[i].key, strlen(stats[i].key));
		if (name_taken(label))
			continue;	/* dropped below, after the sample */
		take_name(label);
		printf("%s", first ? "" : ",");
		print_label(label + 1, stats[i].value, strlen(stats[i].value));
		first = false;
		done[i] = true;
	}
	printf("} 1\n");
	for (size_t i = 0; i < nr_stats; i++)
		if (!done[i] && !is_number(stats[i].value))
			drop(i, "its label name is taken");
}

static void print_family(const struct family *f)
{
	size_t plen = strlen(f->key);
	bool prefix = f->key[plen - 1] == '.';
	char name[NAME_MAX_LEN];
	bool head = false;

	sanitize(name, sizeof(name), PREFIX, f->key, plen - prefix);
	/* Counters end in _total once: optimize_total is hvo_shared_optimize_total. */
	if (f->counter && (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total")))
		strcat(name, "_total");
	for (size_t i = 0; i < nr_stats; i++) {
		const char *k = stats[i].key;

		if (done[i] || !is_number(stats[i].value) ||
		    (prefix ? strncmp(k, f->key, plen) || !k[plen] : strcmp(k, f->key)))
			continue;
		if (!head)
			print_head(name, f->counter ? "counter" : "gauge", f->help);
		head = true;
		printf("%s", name);
		if (prefix) {
			putchar('{');
			print_label(f->label, k + plen, strlen(k + plen));
			putchar('}');
		}
		printf(" %s\n", stats[i].value);
		done[i] = true;
	}
}

/*
 * The lines nodeN.ZONE.orderK.FIELD of one FIELD, as name{node,zone,order};
 * those whose node or order is out of range are dropped.
 */
static void print_zone(const char *name, const char *field, const char *type,
		       const char *help)
{
	bool head = false;

	for (size_t i = 0; i < nr_stats; i++) {
		struct zone_key k;
		int r;

		if (done[i] || !is_number(stats[i].value))
			continue;
		r = split_key(stats[i].key, &k);
		if (!r || strcmp(k.field, field))
			continue;
		if (r < 0) {
			drop(i, "node or order out of range");
			continue;
		}
		if (!head)
			print_head(name, type, help);
		head = true;
		printf("%s{node=\"%lu\",", name, k.node);
		print_label("zone", k.zone, k.zone_len);
		printf(",order=\"%lu\"} %s\n", k.order, stats[i].value);
		done[i] = true;
	}
}

/* A key seen before in the file: only its first line counts. */
static void drop_duplicates(void)
{
	for (size_t i = 0; i < nr_stats; i++)
		for (size_t j = 0; j < i && !done[i]; j++)
			if (!strcmp(stats[i].key, stats[j].key))
				drop(i, "the key is there twice");
}

/*
 * Keys left, numbers all (strings went to hvo_shared_info): untyped,
 * hvo_shared_KEY or hvo_shared_zone_FIELD{node,zone,order}, names
 * sanitized; dropped if a name comes out as one already printed.
 */
static void print_unknown(void)
{
	char name[NAME_MAX_LEN];

	for (size_t i = 0; i < nr_stats; i++) {
		struct zone_key k;

		if (done[i])
			continue;
		if (split_key(stats[i].key, &k)) {
			sanitize(name, sizeof(name), PREFIX "zone_", k.field, strlen(k.field));
			if (name_taken(name))
				drop(i, "its metric name is taken");
			else
				print_zone(name, k.field, "untyped",
					   "A per-zone stats key this hvoctl does not know");
			continue;
		}
		sanitize(name, sizeof(name), PREFIX, stats[i].key, strlen(stats[i].key));
		if (name_taken(name)) {
			drop(i, "its metric name is taken");
			continue;
		}
		print_head(name, "untyped", "A stats key this hvoctl does not know");
		printf("%s %s\n", name, stats[i].value);
		done[i] = true;
	}
}

int print_stats_prometheus(void)
{
	size_t max_names = 2 * nr_stats + 1 + NR(families) + NR(zone_families);

	done = calloc(nr_stats + 1, sizeof(*done));
	names = calloc(max_names, sizeof(*names));
	if (!done || !names) {
		free(done);
		free(names);
		return fail(EXIT_ERROR, "out of memory");
	}
	nr_names = 0;
	drop_duplicates();
	print_info();
	for (size_t f = 0; f < NR(families); f++)
		print_family(&families[f]);
	for (size_t f = 0; f < NR(zone_families); f++) {
		char name[NAME_MAX_LEN];

		snprintf(name, sizeof(name), PREFIX "zone_%s", zone_families[f].key);
		print_zone(name, zone_families[f].key, "gauge", zone_families[f].help);
	}
	print_unknown();
	free(done);
	free(names);
	return EXIT_OK;
}
