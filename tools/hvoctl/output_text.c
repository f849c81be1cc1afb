// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: plain-text output: the stats lines, the summary, watch.
 */
#include <stdio.h>
#include <unistd.h>

#include "hvoctl.h"

/* The summary line and the per-node table: status and watch. */
int print_summary(void)
{
	static struct node_sum nodes[MAX_NODES];
	unsigned long long folios;
	double vmemmap = 0;
	int max, nr_nodes = 0;
	long long saved;

	if (stat_u64("folios_optimized", &folios) || stat_num("saved_bytes", &saved) ||
	    sum_nodes(nodes, &max))
		return EXIT_ERROR;
	for (int i = 0; i <= max; i++) {
		if (nodes[i].folios)
			nr_nodes++;
		vmemmap += nodes[i].vmemmap_bytes;
	}
	printf("%s %s: %llu folio%s on %d node%s, %.1f MiB of vmemmap saved",
	       MODULE_NAME, stat_str("version") ?: "?", folios, folios == 1 ? "" : "s",
	       nr_nodes, nr_nodes == 1 ? "" : "s", saved / 1048576.0);
	if (vmemmap > 0)
		printf(" (%.1f%%)", 100.0 * saved / vmemmap);
	printf("\n%-6s %10s %12s %12s %8s %12s\n", "NODE", "FOLIOS", "PAGES_FREED",
	       "PAGES_ALLOC", "TAILS", "SAVED_MIB");
	for (int i = 0; i <= max; i++) {
		if (!nodes[i].seen)
			continue;
		printf("%-6d %10llu %12llu %12llu %8llu %12.1f\n", i, nodes[i].folios,
		       nodes[i].freed, nodes[i].allocated, nodes[i].tails,
		       (long long)nodes[i].saved / 1048576.0);
	}
	return EXIT_OK;
}

/* The stats lines as read. */
int print_stats_text(void)
{
	for (size_t i = 0; i < nr_stats; i++)
		printf("%s %s\n", stats[i].key, stats[i].value);
	return EXIT_OK;
}

int cmd_watch(int interval, int count)
{
	for (int i = 0; !count || i < count; i++) {
		int code = read_stats();

		if (code)
			return code;
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		code = print_summary();
		if (code)
			return code;
		fflush(stdout);
		if (!count || i + 1 < count)
			sleep(interval);
	}
	return EXIT_OK;
}
