// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: load, unload and report on hvo_shared, through libkmod and the
 * module's debugfs stats file. See docs/hvoctl.md and hvoctl(8).
 */
#include <errno.h>
#include <getopt.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef HVOCTL_VERSION
#define HVOCTL_VERSION	"unknown"
#endif

#define MODULE_NAME	"hvo_shared"
#define DEBUGFS		"/sys/kernel/debug"
#define STATS		DEBUGFS "/hvo_shared/stats"
#define SYSFS_MODULE	"/sys/module/" MODULE_NAME
#define DEBUGFS_MAGIC	0x64626720
#define MAX_STATS	4096
#define MAX_NODES	1024

/* Exit codes: documented in docs/hvoctl.md; never renumbered. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_ROOT = 3,
	EXIT_NOT_INSTALLED = 4,
	EXIT_UNSUPPORTED = 5,
	EXIT_NO_DEBUGFS = 6,
	EXIT_BUSY = 7,
	EXIT_NOT_LOADED = 8,
};

struct stat_kv {
	char key[128];
	char value[128];
};

static struct stat_kv stats[MAX_STATS];
static int nr_stats;

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("hvoctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int need_root(void)
{
	if (geteuid() != 0)
		return fail(EXIT_NOT_ROOT, "must be run as root");
	return EXIT_OK;
}

static struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (ctx)
		kmod_load_resources(ctx);
	return ctx;
}

/* Find hvo_shared in modules.dep: NULL, with *code set, if it is not there. */
static struct kmod_module *module_lookup(struct kmod_ctx *ctx, int *code)
{
	struct kmod_list *list = NULL, *l;
	struct kmod_module *mod = NULL;

	if (kmod_module_new_from_lookup(ctx, MODULE_NAME, &list) >= 0) {
		kmod_list_foreach(l, list) {
			mod = kmod_module_get_module(l);
			break;
		}
		kmod_module_unref_list(list);
	}
	if (mod && kmod_module_get_path(mod))
		return mod;
	if (mod)
		kmod_module_unref(mod);
	*code = fail(EXIT_NOT_INSTALLED,
		     "module %s is not installed for this kernel (dkms install, or make install)",
		     MODULE_NAME);
	return NULL;
}

static const char *initstate_name(int state)
{
	switch (state) {
	case KMOD_MODULE_LIVE: return "live";
	case KMOD_MODULE_COMING: return "coming";
	case KMOD_MODULE_GOING: return "going";
	case KMOD_MODULE_BUILTIN: return "builtin";
	default: return "not loaded";
	}
}

static int module_loaded(void)
{
	struct stat st;

	return stat(SYSFS_MODULE, &st) == 0;
}

/* Read the stats file; distinguishes "not loaded" from "no debugfs". */
static int read_stats(void)
{
	struct statfs sfs;
	char line[300];
	FILE *f;

	if (statfs(DEBUGFS, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
		return fail(EXIT_NO_DEBUGFS,
			    "debugfs is not mounted; mount it with: mount -t debugfs none " DEBUGFS);
	if (!module_loaded())
		return fail(EXIT_NOT_LOADED, "%s is not loaded (hvoctl load)", MODULE_NAME);
	f = fopen(STATS, "r");
	if (!f)
		return fail(EXIT_ERROR, "cannot read %s: %s", STATS, strerror(errno));
	nr_stats = 0;
	while (nr_stats < MAX_STATS && fgets(line, sizeof(line), f)) {
		struct stat_kv *kv = &stats[nr_stats];

		if (sscanf(line, "%127s %127s", kv->key, kv->value) == 2)
			nr_stats++;
	}
	fclose(f);
	return EXIT_OK;
}

static const char *stat_str(const char *key)
{
	for (int i = 0; i < nr_stats; i++)
		if (!strcmp(stats[i].key, key))
			return stats[i].value;
	return NULL;
}

static long long stat_num(const char *key)
{
	const char *v = stat_str(key);

	return v ? strtoll(v, NULL, 10) : 0;
}

static int is_integer(const char *s)
{
	char *end;

	if (!*s)
		return 0;
	strtoll(s, &end, 10);
	return *end == '\0';
}

/* Per-node sums of the per-(node, zone, order) keys. */
struct node_sum {
	long long folios, freed, allocated, tails, saved, vmemmap_bytes;
	int seen;
};

static int sum_nodes(struct node_sum *nodes)
{
	int max = -1;

	memset(nodes, 0, sizeof(*nodes) * MAX_NODES);
	for (int i = 0; i < nr_stats; i++) {
		char zone[32], field[64];
		int nid, order;
		long long v = strtoll(stats[i].value, NULL, 10);
		struct node_sum *n;

		if (sscanf(stats[i].key, "node%d.%31[^.].order%d.%63s",
			   &nid, zone, &order, field) != 4 || nid < 0 || nid >= MAX_NODES)
			continue;
		n = &nodes[nid];
		n->seen = 1;
		if (nid > max)
			max = nid;
		if (!strcmp(field, "folios_optimized")) {
			n->folios += v;
			/* 64-byte struct pages: a folio's whole vmemmap. */
			n->vmemmap_bytes += v * (64LL << order);
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
	return max;
}

static void print_summary(void)
{
	static struct node_sum nodes[MAX_NODES];
	long long vmemmap = 0, saved = stat_num("saved_bytes");
	int max = sum_nodes(nodes), nr_nodes = 0;

	for (int i = 0; i <= max; i++) {
		if (nodes[i].folios)
			nr_nodes++;
		vmemmap += nodes[i].vmemmap_bytes;
	}
	printf("%s %s: %lld folios on %d node%s, %.1f MiB of vmemmap saved (%.1f%%)\n",
	       MODULE_NAME, stat_str("version") ?: "?", stat_num("folios_optimized"),
	       nr_nodes, nr_nodes == 1 ? "" : "s", saved / 1048576.0,
	       vmemmap ? 100.0 * saved / vmemmap : 0.0);
	printf("%-6s %10s %12s %12s %8s %12s\n", "NODE", "FOLIOS", "PAGES_FREED",
	       "PAGES_ALLOC", "TAILS", "SAVED_MIB");
	for (int i = 0; i <= max; i++) {
		if (!nodes[i].seen)
			continue;
		printf("%-6d %10lld %12lld %12lld %8lld %12.1f\n", i, nodes[i].folios,
		       nodes[i].freed, nodes[i].allocated, nodes[i].tails,
		       nodes[i].saved / 1048576.0);
	}
}

static void print_param(const char *name)
{
	char path[256], value[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), SYSFS_MODULE "/parameters/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fgets(value, sizeof(value), f))
			value[strcspn(value, "\n")] = '\0';
		fclose(f);
	}
	printf("  %-10s %s\n", name, value);
}

static int cmd_status(void)
{
	struct kmod_ctx *ctx = kmod_open();
	struct kmod_module *mod;
	struct kmod_list *info = NULL, *l;
	int code = EXIT_OK, state;

	if (!ctx)
		return fail(EXIT_ERROR, "cannot initialise libkmod");
	mod = module_lookup(ctx, &code);
	if (!mod) {
		kmod_unref(ctx);
		return code;
	}
	state = kmod_module_get_initstate(mod);
	printf("module:   %s (%s)\n", kmod_module_get_path(mod), initstate_name(state));
	if (kmod_module_get_info(mod, &info) >= 0) {
		kmod_list_foreach(l, info)
			if (!strcmp(kmod_module_info_get_key(l), "version"))
				printf("version:  %s (installed)\n", kmod_module_info_get_value(l));
		kmod_module_info_free_list(info);
	}
	if (state == KMOD_MODULE_LIVE) {
		struct kmod_list *holders = kmod_module_get_holders(mod);

		printf("refcount: %d%s\n", kmod_module_get_refcnt(mod), holders ? ", held" : "");
		kmod_module_unref_list(holders);
		printf("parameters:\n");
		for (const char *const *p = (const char *const[]){ "hstates", "nodes",
				"takeover", "giveback", "head_copy", NULL }; *p; p++)
			print_param(*p);
		code = read_stats();
		if (!code)
			print_summary();
	}
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return code;
}

/* What a refused load means, in words. */
static int load_error(int err)
{
	switch (-err) {
	case EEXIST:
		return fail(EXIT_BUSY, "%s is already loaded", MODULE_NAME);
	case EINVAL:
		return fail(EXIT_USAGE, "a parameter was refused (see dmesg)");
	case EOPNOTSUPP:
	case ENODEV:
	case ENOEXEC:
		return fail(EXIT_UNSUPPORTED, "this kernel is not supported by %s (see dmesg): %s",
			    MODULE_NAME, strerror(-err));
	case ENOENT:
		return fail(EXIT_UNSUPPORTED, "this kernel lacks a symbol or function %s needs (see dmesg)",
			    MODULE_NAME);
	case EBUSY:
		return fail(EXIT_BUSY, "the kernel's HVO functions are hooked by something else (see dmesg)");
	default:
		return fail(EXIT_ERROR, "cannot load %s: %s", MODULE_NAME, strerror(-err));
	}
}

static int cmd_load(int argc, char **argv)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	char options[1024] = "";
	int code = need_root(), err;

	if (code)
		return code;
	for (int i = 0; i < argc; i++) {
		if (!strchr(argv[i], '='))
			return fail(EXIT_USAGE, "parameter '%s' is not name=value", argv[i]);
		if (strlen(options) + strlen(argv[i]) + 2 > sizeof(options))
			return fail(EXIT_USAGE, "too many parameters");
		if (*options)
			strcat(options, " ");
		strcat(options, argv[i]);
	}
	ctx = kmod_open();
	if (!ctx)
		return fail(EXIT_ERROR, "cannot initialise libkmod");
	mod = module_lookup(ctx, &code);
	if (mod) {
		if (kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE) {
			code = fail(EXIT_BUSY, "%s is already loaded", MODULE_NAME);
		} else {
			err = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST,
							      options, NULL, NULL, NULL);
			code = err ? load_error(err < 0 ? err : -EPERM) : EXIT_OK;
			if (!code)
				printf("%s loaded\n", MODULE_NAME);
		}
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return code;
}

static int cmd_unload(void)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int code = need_root(), err;

	if (code)
		return code;
	ctx = kmod_open();
	if (!ctx)
		return fail(EXIT_ERROR, "cannot initialise libkmod");
	err = kmod_module_new_from_name(ctx, MODULE_NAME, &mod);
	if (err < 0) {
		kmod_unref(ctx);
		return fail(EXIT_ERROR, "libkmod: %s", strerror(-err));
	}
	if (kmod_module_get_initstate(mod) < 0) {
		code = fail(EXIT_NOT_LOADED, "%s is not loaded", MODULE_NAME);
	} else {
		err = kmod_module_remove_module(mod, 0);
		if (err == -EBUSY || err == -EAGAIN)
			code = fail(EXIT_BUSY, "%s is busy: %s", MODULE_NAME, strerror(-err));
		else if (err < 0)
			code = fail(EXIT_ERROR, "cannot unload %s: %s", MODULE_NAME, strerror(-err));
		else
			printf("%s unloaded\n", MODULE_NAME);
	}
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return code;
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int cmd_stats(int json)
{
	int code = read_stats();

	if (code)
		return code;
	if (!json) {
		for (int i = 0; i < nr_stats; i++)
			printf("%s %s\n", stats[i].key, stats[i].value);
		return EXIT_OK;
	}
	printf("{");
	for (int i = 0; i < nr_stats; i++) {
		printf("%s\n  ", i ? "," : "");
		print_json_string(stats[i].key);
		printf(": ");
		if (is_integer(stats[i].value))
			printf("%s", stats[i].value);
		else
			print_json_string(stats[i].value);
	}
	printf("\n}\n");
	return EXIT_OK;
}

static int cmd_watch(int interval, int count)
{
	for (int i = 0; !count || i < count; i++) {
		int code = read_stats();

		if (code)
			return code;
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		print_summary();
		fflush(stdout);
		if (!count || i + 1 < count)
			sleep(interval);
	}
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvoctl COMMAND [ARGS]\n"
		"\n"
		"  status                  module state, parameters, savings per node\n"
		"  load [NAME=VALUE...]    load hvo_shared with these parameters (root)\n"
		"  unload                  unload hvo_shared (root)\n"
		"  stats [--json]          every counter of the stats file\n"
		"  watch [-n SECONDS] [-c COUNT]\n"
		"                          refresh the summary every SECONDS (default 2)\n"
		"  help, --help            this text\n"
		"  version, --version      hvoctl's version\n"
		"\n"
		"Exit status: 0 ok, 1 error, 2 usage, 3 not root, 4 not installed,\n"
		"5 kernel unsupported, 6 debugfs not mounted, 7 busy, 8 not loaded.\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "status";

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
	if (!strcmp(cmd, "unload") && argc == 2)
		return cmd_unload();
	if (!strcmp(cmd, "stats") && argc == 2)
		return cmd_stats(0);
	if (!strcmp(cmd, "stats") && argc == 3 && !strcmp(argv[2], "--json"))
		return cmd_stats(1);
	if (!strcmp(cmd, "watch")) {
		int interval = 2, count = 0, opt;

		optind = 2;
		while ((opt = getopt(argc, argv, "n:c:")) != -1) {
			if (opt == 'n' && atoi(optarg) > 0)
				interval = atoi(optarg);
			else if (opt == 'c' && atoi(optarg) > 0)
				count = atoi(optarg);
			else
				return usage(stderr), EXIT_USAGE;
		}
		if (optind != argc)
			return usage(stderr), EXIT_USAGE;
		return cmd_watch(interval, count);
	}
	usage(stderr);
	return EXIT_USAGE;
}
