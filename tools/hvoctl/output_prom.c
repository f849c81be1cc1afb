// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: stats --prometheus, a node_exporter textfile.
 */
#include <stdio.h>
#include <string.h>

#include "hvoctl.h"

/* A Prometheus label value: backslash, quote and newline escaped. */
static void print_label(const char *name, const char *v, size_t len)
{
	printf("%s=\"", name);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\\' || v[i] == '"')
			putchar('\\');
		if (v[i] == '\n')
			fputs("\\n", stdout);
		else
			putchar(v[i]);
	}
	putchar('"');
}

/*
 * The stats as a node_exporter textfile: hvo_shared_KEY for numbers,
 * "family.label" keys as one family with a label, per-(node, zone, order)
 * keys as hvo_shared_zone_KEY{node,zone,order}, the rest in
 * hvo_shared_info. Each family's samples stand together.
 */
int print_stats_prometheus(void)
{
	static const char *const zone_keys[] = {
		"folios_optimized", "vmemmap_pages_freed", "vmemmap_pages_allocated",
		"shared_tail_pages", "saved_bytes",
	};
	static const struct { const char *prefix, *label; } families[] = {
		{ "injected.", "site" }, { "adopt_skipped.", "reason" },
	};
	long long v;

	printf("# HELP hvo_shared_info hvo_shared version, kernel and state\n"
	       "# TYPE hvo_shared_info gauge\nhvo_shared_info{");
	for (size_t i = 0, n = 0; i < nr_stats; i++) {
		if (parse_ll(stats[i].value, &v))
			continue;
		printf("%s", n++ ? "," : "");
		print_label(stats[i].key, stats[i].value, strlen(stats[i].value));
	}
	printf("} 1\n");
	for (size_t i = 0; i < nr_stats; i++) {
		const char *k = stats[i].key;

		if (!parse_ll(stats[i].value, &v) || strchr(k, '.'))
			continue;
		printf("# TYPE hvo_shared_%s gauge\nhvo_shared_%s %lld\n", k, k, v);
	}
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		size_t plen = strlen(families[f].prefix);
		bool head = false;

		for (size_t i = 0; i < nr_stats; i++) {
			if (strncmp(stats[i].key, families[f].prefix, plen) ||
			    !parse_ll(stats[i].value, &v))
				continue;
			if (!head)
				printf("# TYPE hvo_shared_%.*s gauge\n", (int)plen - 1,
				       families[f].prefix);
			head = true;
			printf("hvo_shared_%.*s{", (int)plen - 1, families[f].prefix);
			print_label(families[f].label, stats[i].key + plen,
				    strlen(stats[i].key + plen));
			printf("} %lld\n", v);
		}
	}
	for (size_t z = 0; z < sizeof(zone_keys) / sizeof(zone_keys[0]); z++) {
		bool head = false;

		for (size_t i = 0; i < nr_stats; i++) {
			struct zone_key k;

			if (split_key(stats[i].key, &k) != 1 || strcmp(k.field, zone_keys[z]) ||
			    !parse_ll(stats[i].value, &v))
				continue;
			if (!head)
				printf("# TYPE hvo_shared_zone_%s gauge\n", zone_keys[z]);
			head = true;
			printf("hvo_shared_zone_%s{node=\"%lu\",", zone_keys[z], k.node);
			print_label("zone", k.zone, k.zone_len);
			printf(",order=\"%lu\"} %lld\n", k.order, v);
		}
	}
	return EXIT_OK;
}
