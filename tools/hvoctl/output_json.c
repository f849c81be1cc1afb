// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: stats --json.
 */
#include <stdio.h>

#include "hvoctl.h"

/* Every byte outside printable ASCII is escaped: the output is always JSON. */
static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/*
 * A value is a JSON number only if it is a canonical integer that fits 64
 * bits, as the kernel prints them; anything else is a string.
 */
int print_stats_json(void)
{
	long long v;

	printf("{");
	for (size_t i = 0; i < nr_stats; i++) {
		printf("%s\n  ", i ? "," : "");
		print_json_string(stats[i].key);
		printf(": ");
		if (parse_ll(stats[i].value, &v))
			printf("%s", stats[i].value);
		else
			print_json_string(stats[i].value);
	}
	printf("\n}\n");
	return EXIT_OK;
}
