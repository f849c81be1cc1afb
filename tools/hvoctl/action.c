// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: adopt and restore, run through their module parameters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvoctl.h"

/* Counters a run of adopt or restore moves, reported as differences. */
static const char *const action_keys[] = {
	"adopt_total", "adopt_failed", "adopt_skipped.isolated", "adopt_skipped.busy",
	"adopt_skipped.hwpoison", "adopt_skipped.temporary", "adopt_skipped.dirty_tails",
	"adopt_skipped.head_copy", "adopt_skipped.self_hosted", "adopt_skipped.optimized",
	"restore_all_total", "restore_all_failed", "restore_all_busy", "restore_all_inherited",
	"restore_blocks", "restore_pages_filled",
};

/*
 * adopt, restore: write 1 to the module parameter of that name from a
 * child, report progress on stderr each second while it runs, then every
 * counter it moved. A restore that left folios (no memory, or busy) exits
 * EXIT_BUSY: run it again.
 */
int cmd_action(const char *name)
{
	const bool adopt = !strcmp(name, "adopt");
	const char *done = adopt ? "adopt_total" : "restore_all_total";
	long long before[sizeof(action_keys) / sizeof(action_keys[0])], done0, d;
	char path[PATH_MAX];
	int code = need_root(), status;
	pid_t pid;

	if (code)
		return code;
	if (!module_loaded())
		return fail(EXIT_NOT_LOADED, "%s is not loaded (hvoctl load)", MODULE_NAME);
	snprintf(path, sizeof(path), PARAMS "/%s", name);
	if (access(path, W_OK))
		return fail(EXIT_UNSUPPORTED, "this %s has no %s parameter", MODULE_NAME, name);
	code = read_stats();
	if (code)
		return code;
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
		before[i] = stat_or_zero(action_keys[i]);
	done0 = stat_or_zero(done);

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return fail(EXIT_ERROR, "fork: %s", strerror(errno));
	if (!pid) {
		int fd = open(path, O_WRONLY);

		if (fd < 0 || write(fd, "1", 1) != 1)
			_exit(errno == ENOMEM ? 3 : errno == ENODEV ? 4 : errno == EBUSY ? 5 : 2);
		_exit(close(fd) ? 2 : 0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		sleep(1);
		if (!read_stats())
			fprintf(stderr, "hvoctl: %s: %lld folios so far, %lld optimized now\n",
				name, stat_or_zero(done) - done0,
				stat_or_zero("folios_optimized"));
	}
	code = read_stats();
	if (code)
		return code;
	printf("%s:", name);
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		d = stat_or_zero(action_keys[i]) - before[i];
		if (d || !strcmp(action_keys[i], done))
			printf(" %s +%lld", action_keys[i], d);
	}
	printf("; folios_optimized %lld\n", stat_or_zero("folios_optimized"));
	if (!WIFEXITED(status))
		return fail(EXIT_ERROR, "%s: the writer died", name);
	switch (WEXITSTATUS(status)) {
	case 0:
		return EXIT_OK;
	case 3:
		return fail(EXIT_BUSY, "%s: some folios are left (no memory or busy): run it again",
			    name);
	case 4:
		return fail(EXIT_BUSY, "%s: %s is unloading", name, MODULE_NAME);
	case 5:
		return fail(EXIT_BUSY, "%s: an adopt or restore is running: run it again later",
			    name);
	default:
		return fail(EXIT_ERROR, "%s: the module refused it (see dmesg)", name);
	}
}
