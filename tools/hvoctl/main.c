// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: load, unload and report on hvo_shared, through libkmod, sysfs and
 * the module's debugfs stats file. See docs/hvoctl.md and hvoctl(8).
 * This file: command dispatch.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvoctl.h"

int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("hvoctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int need_root(void)
{
	if (geteuid() != 0)
		return fail(EXIT_NOT_ROOT, "must be run as root");
	return EXIT_OK;
}

/* A positive decimal int, digits only: "1abc", "+1", " 1" and "0" are not. */
static bool parse_positive(const char *s, int *v)
{
	long n;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end || n <= 0 || n > INT_MAX)
		return false;
	*v = n;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvoctl COMMAND [ARGS]\n"
		"\n"
		"  status                  module state, parameters, savings per node\n"
		"  load [NAME=VALUE...]    load hvo_shared with these parameters (root)\n"
		"  set NAME=VALUE...       change run-time parameters of the loaded module (root)\n"
		"  unload                  unload hvo_shared (root)\n"
		"  stats [--json|--prometheus] [--output FILE]\n"
		"                          every counter of the stats file; into FILE,\n"
		"                          replaced whole (for node_exporter)\n"
		"  adopt                   optimize what the policy wants, folios in use too (root)\n"
		"  restore                 restore every folio hvo_shared optimized (root)\n"
		"  watch [-n SECONDS] [-c COUNT]\n"
		"                          refresh the summary every SECONDS (default 2)\n"
		"  help, --help            this text\n"
		"  version, --version      hvoctl's version\n"
		"\n"
		"Exit status: 0 ok, 1 error, 2 usage, 3 not root, 4 not installed,\n"
		"5 kernel unsupported, 6 debugfs not mounted, 7 busy, 8 not loaded.\n");
}

static int main_watch(int argc, char **argv)
{
	int interval = 2, count = 0, opt;

	optind = 2;
	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		if (opt == 'n' && !parse_positive(optarg, &interval))
			return fail(EXIT_USAGE, "watch -n: '%s' is not a whole number of seconds above 0",
				    optarg);
		if (opt == 'c' && !parse_positive(optarg, &count))
			return fail(EXIT_USAGE, "watch -c: '%s' is not a count above 0", optarg);
		if (opt != 'n' && opt != 'c')
			return usage(stderr), EXIT_USAGE;
	}
	if (optind != argc)
		return usage(stderr), EXIT_USAGE;
	return cmd_watch(interval, count);
}

/* What is wrong with a command line no command took, then the usage. */
static int bad_command(int argc, char **argv)
{
	static const char *const commands[] = {
		"status", "load", "set", "unload", "stats", "adopt", "restore", "watch",
	};
	const char *cmd = argv[1];
	bool known = false;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		known |= !strcmp(cmd, commands[i]);
	if (!known)
		fail(EXIT_USAGE, "unknown command '%s'", cmd);
	else if (argc > 2)
		fail(EXIT_USAGE, "%s: unexpected argument '%s'", cmd, argv[argc - 1]);
	usage(stderr);
	return EXIT_USAGE;
}

/* The formats of stats, by option; NULL: the lines as read. */
static const struct {
	const char *option;
	int (*print)(void);
} formats[] = {
	{ NULL, print_stats_text },
	{ "--json", print_stats_json },
	{ "--prometheus", print_stats_prometheus },
};

/*
 * What print() writes, into path as a whole or not at all: a temporary
 * file in the same directory (hidden: node_exporter's textfile collector
 * reads *.prom only), flushed to disk, renamed over path. A reader sees
 * the old file or the new one, never part of one.
 */
static int write_atomically(const char *path, int (*print)(void))
{
	const char *slash = strrchr(path, '/');
	int code = EXIT_OK, fd, out;
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", slash ? (int)(slash - path + 1) : 0,
		     path, slash ? slash + 1 : path) >= (int)sizeof(tmp))
		return fail(EXIT_USAGE, "--output: path too long");
	fd = mkstemp(tmp);
	if (fd < 0)
		return fail(EXIT_ERROR, "cannot create %s: %s", tmp, strerror(errno));
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	if (out < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		code = fail(EXIT_ERROR, "cannot redirect output: %s", strerror(errno));
	} else {
		code = print();
		if (fflush(stdout) || ferror(stdout))
			code = code ?: fail(EXIT_ERROR, "cannot write %s: %s", tmp, strerror(errno));
		clearerr(stdout);
		dup2(out, STDOUT_FILENO);
	}
	if (out >= 0)
		close(out);
	/* Read by the collector's user, as a file made under umask 022 is. */
	if (!code && (fchmod(fd, 0644) || fsync(fd)))
		code = fail(EXIT_ERROR, "cannot write %s: %s", tmp, strerror(errno));
	if (close(fd) && !code)
		code = fail(EXIT_ERROR, "cannot write %s: %s", tmp, strerror(errno));
	if (!code && rename(tmp, path))
		code = fail(EXIT_ERROR, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (code)
		unlink(tmp);
	return code;
}

/*
 * stats [FORMAT] [--output FILE], in either order: the stats file read
 * whole, then printed in one format, to FILE if given (atomically).
 */
static int cmd_stats(int argc, char **argv)
{
	const char *output = NULL;
	size_t f, nr = sizeof(formats) / sizeof(formats[0]);
	char *rest[2];
	int nr_rest = 0, code;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--output") && i + 1 < argc && !output && *argv[i + 1])
			output = argv[++i];
		else if (nr_rest < 1)
			rest[nr_rest++] = argv[i];
		else
			return bad_command(argc + 2, argv - 2);
	}
	for (f = 0; f < nr; f++)
		if (formats[f].option ? nr_rest == 1 && !strcmp(rest[0], formats[f].option) :
		    !nr_rest)
			break;
	if (f == nr)
		return bad_command(argc + 2, argv - 2);
	code = read_stats();
	if (code)
		return code;
	return output ? write_atomically(output, formats[f].print) : formats[f].print();
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "status";
	const char *path = getenv("HVOCTL_STATS");

	if (path && *path) {
		stats_path = path;
		stats_path_test = true;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("hvoctl %s\n", HVOCTL_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "status") && argc <= 2)
		return cmd_status();
	if (!strcmp(cmd, "load"))
		return cmd_load(argc - 2, argv + 2);
	if (!strcmp(cmd, "set"))
		return cmd_set(argc - 2, argv + 2);
	if (!strcmp(cmd, "unload") && argc == 2)
		return cmd_unload();
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc - 2, argv + 2);
	if ((!strcmp(cmd, "adopt") || !strcmp(cmd, "restore")) && argc == 2)
		return cmd_action(cmd);
	if (!strcmp(cmd, "watch"))
		return main_watch(argc, argv);
	return bad_command(argc, argv);
}
