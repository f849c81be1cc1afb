// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: stats --json.
 */
#include <stdio.h>

#include "hvoctl.h"

/*
 * UTF-8 passes through; quote, backslash and control characters are
 * escaped, and so is each byte that is not UTF-8 (as \u00XX, its value as
 * Latin-1: the output stays valid JSON whatever the file holds).
 */
static void print_json_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putchar('"');
	while (*s) {
		size_t len = utf8_len(s);

		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s++);
		} else if (*s < 0x20 || *s == 0x7f || !len) {
			printf("\\u%04x", *s++);
		} else {
			fwrite(s, 1, len, stdout);
			s += len;
		}
	}
	putchar('"');
}

/*
 * A value is a JSON number only if it is a canonical integer within 64
 * bits, signed or not, as the kernel prints them; anything else is a
 * string.
 */
int print_stats_json(void)
{
	unsigned long long v;

	printf("{");
	for (size_t i = 0; i < nr_stats; i++) {
		printf("%s\n  ", i ? "," : "");
		print_json_string(stats[i].key);
		printf(": ");
		if (parse_int64(stats[i].value, &v))
			printf("%s", stats[i].value);
		else
			print_json_string(stats[i].value);
	}
	printf("\n}\n");
	return EXIT_OK;
}
