// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: load, unload and report on hvo_shared, through libkmod, sysfs and
 * the module's debugfs stats file. See docs/hvoctl.md and hvoctl(8).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HVOCTL_VERSION
#define HVOCTL_VERSION	"unknown"
#endif

#define MODULE_NAME	"hvo_shared"
#define DEBUGFS		"/sys/kernel/debug"
#define STATS		DEBUGFS "/hvo_shared/stats"
#define SYSFS_MODULE	"/sys/module/" MODULE_NAME
#define PARAMS		SYSFS_MODULE "/parameters"
#define DEBUGFS_MAGIC	0x64626720
#define MAX_NODES	1024
/* Folio orders are far below this; it keeps 1 << order defined. */
#define MAX_ORDER_SEEN	63

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

/* One line of the stats file; any length, owned by the array. */
struct stat_kv {
	char *key;
	char *value;
};

static struct stat_kv *stats;
static size_t nr_stats, max_stats;
static const char *stats_path = STATS;
static bool stats_path_test;	/* HVOCTL_STATS: a file standing in for it */

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
static bool parse_ll(const char *s, long long *v)
{
	char *end;

	if (!is_canonical_int(s))
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && !*end;
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

/* Consume [0-9]+ at *p, at most max: the numbers inside a stats key. */
static bool take_uint(const char **p, unsigned long max, unsigned long *v)
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

static bool module_loaded(void)
{
	struct stat st;

	return stat(SYSFS_MODULE, &st) == 0;
}

/*
 * Read the whole stats file; any error, including one after part of it was
 * read, fails. HVOCTL_STATS names another file, for tests: then debugfs and
 * the module are not required.
 */
static int read_stats(void)
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

static const char *stat_str(const char *key)
{
	for (size_t i = 0; i < nr_stats; i++)
		if (!strcmp(stats[i].key, key))
			return stats[i].value;
	return NULL;
}

/* A key the summary needs: present and an integer, or a loud failure. */
static int stat_num(const char *key, long long *v)
{
	const char *s = stat_str(key);

	if (!s)
		return fail(EXIT_ERROR, "%s has no '%s' line", stats_path, key);
	if (!parse_ll(s, v))
		return fail(EXIT_ERROR, "%s: '%s' is not an integer: '%s'", stats_path, key, s);
	return EXIT_OK;
}

/* Per-node sums of the per-(node, zone, order) keys. */
struct node_sum {
	long long folios, freed, allocated, tails, saved;
	double vmemmap_bytes;
	bool seen;
};

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

static int sum_nodes(struct node_sum *nodes, int *max)
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

static int print_summary(void)
{
	static struct node_sum nodes[MAX_NODES];
	long long folios, saved;
	double vmemmap = 0;
	int max, nr_nodes = 0;

	if (stat_num("folios_optimized", &folios) || stat_num("saved_bytes", &saved) ||
	    sum_nodes(nodes, &max))
		return EXIT_ERROR;
	for (int i = 0; i <= max; i++) {
		if (nodes[i].folios)
			nr_nodes++;
		vmemmap += nodes[i].vmemmap_bytes;
	}
	printf("%s %s: %lld folio%s on %d node%s, %.1f MiB of vmemmap saved",
	       MODULE_NAME, stat_str("version") ?: "?", folios, folios == 1 ? "" : "s",
	       nr_nodes, nr_nodes == 1 ? "" : "s", saved / 1048576.0);
	if (vmemmap > 0)
		printf(" (%.1f%%)", 100.0 * saved / vmemmap);
	printf("\n%-6s %10s %12s %12s %8s %12s\n", "NODE", "FOLIOS", "PAGES_FREED",
	       "PAGES_ALLOC", "TAILS", "SAVED_MIB");
	for (int i = 0; i <= max; i++) {
		if (!nodes[i].seen)
			continue;
		printf("%-6d %10lld %12lld %12lld %8lld %12.1f\n", i, nodes[i].folios,
		       nodes[i].freed, nodes[i].allocated, nodes[i].tails,
		       nodes[i].saved / 1048576.0);
	}
	return EXIT_OK;
}

/* The first line of a sysfs file, newline stripped; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void print_param(const char *name)
{
	char path[PATH_MAX], value[256];

	snprintf(path, sizeof(path), PARAMS "/%s", name);
	read_line(path, value, sizeof(value));
	printf("  %-10s %s\n", name, value);
}

static struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (ctx)
		kmod_load_resources(ctx);
	return ctx;
}

/* hvo_shared's file in modules.dep, or NULL when it is not installed. */
static struct kmod_module *module_lookup(struct kmod_ctx *ctx)
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
	return NULL;
}

static int not_installed(void)
{
	return fail(EXIT_NOT_INSTALLED,
		    "module %s is not installed for this kernel (dkms install, or make install)",
		    MODULE_NAME);
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

/* The installed file and its version: what modprobe would load. */
static void print_installed(struct kmod_module *file)
{
	struct kmod_list *info = NULL, *l;
	const char *version = NULL;
	struct utsname u;

	if (!file) {
		uname(&u);
		printf("file:     none installed for %s\n", u.release);
		return;
	}
	if (kmod_module_get_info(file, &info) >= 0) {
		kmod_list_foreach(l, info)
			if (!strcmp(kmod_module_info_get_key(l), "version"))
				version = kmod_module_info_get_value(l);
	}
	printf("file:     %s (version %s)\n", kmod_module_get_path(file), version ?: "?");
	kmod_module_info_free_list(info);
}

/*
 * What is loaded comes from /sys/module (through libkmod by name), not from
 * the installed file: a module loaded with insmod from anywhere is loaded.
 */
static int cmd_status(void)
{
	struct kmod_module *loaded = NULL, *file;
	char version[256];
	int code = EXIT_OK, state;
	struct kmod_ctx *ctx;

	ctx = kmod_open();
	if (!ctx)
		return fail(EXIT_ERROR, "cannot initialise libkmod");
	file = module_lookup(ctx);
	if (kmod_module_new_from_name(ctx, MODULE_NAME, &loaded) < 0) {
		kmod_unref(ctx);
		return fail(EXIT_ERROR, "cannot initialise libkmod");
	}
	state = module_loaded() ? kmod_module_get_initstate(loaded) : -ENOENT;
	if (state < 0 && !file) {
		code = not_installed();
		goto out;
	}
	printf("module:   %s (%s)\n", MODULE_NAME, initstate_name(state));
	if (state >= 0) {
		read_line(SYSFS_MODULE "/version", version, sizeof(version));
		printf("version:  %s (loaded)\n", *version ? version : "?");
	}
	print_installed(file);
	if (state == KMOD_MODULE_LIVE) {
		struct kmod_list *holders = kmod_module_get_holders(loaded);

		printf("refcount: %d%s\n", kmod_module_get_refcnt(loaded), holders ? ", held" : "");
		kmod_module_unref_list(holders);
		printf("parameters:\n");
		for (const char *const *p = (const char *const[]){ "hstates", "nodes",
				"takeover", "giveback", "head_copy", NULL }; *p; p++)
			print_param(*p);
		code = read_stats();
		if (!code)
			code = print_summary();
	}
out:
	if (file)
		kmod_module_unref(file);
	kmod_module_unref(loaded);
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

/* Parameter names compare as the kernel's parameq(): '-' equals '_'. */
static bool param_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* "name=value" with a non-empty name; the name's length. */
static int param_name(const char *arg, size_t *len)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return fail(EXIT_USAGE, "parameter '%s' is not name=value", arg);
	*len = eq - arg;
	return EXIT_OK;
}

/*
 * The kernel ignores unknown parameters and loads anyway ("unknown
 * parameter ... ignored" in dmesg): check every name against the
 * module file's own list (modinfo's parm) before loading.
 */
static int check_load_params(struct kmod_module *mod, int argc, char **argv)
{
	struct kmod_list *info = NULL, *l;
	int code = EXIT_OK;

	if (kmod_module_get_info(mod, &info) < 0)
		return fail(EXIT_ERROR, "cannot read the parameters of %s", kmod_module_get_path(mod));
	for (int i = 0; i < argc && !code; i++) {
		bool known = false;
		size_t len;

		code = param_name(argv[i], &len);
		if (code)
			break;
		kmod_list_foreach(l, info) {
			const char *v = kmod_module_info_get_value(l);
			const char *colon = v ? strchr(v, ':') : NULL;

			if (colon && !strcmp(kmod_module_info_get_key(l), "parm") &&
			    param_eq(argv[i], len, v, colon - v))
				known = true;
		}
		if (!known)
			code = fail(EXIT_USAGE, "unknown parameter '%.*s' (see hvoctl(8) or modinfo %s)",
				    (int)len, argv[i], MODULE_NAME);
	}
	kmod_module_info_free_list(info);
	return code;
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
		size_t len;

		code = param_name(argv[i], &len);
		if (code)
			return code;
		if (strlen(options) + strlen(argv[i]) + 2 > sizeof(options))
			return fail(EXIT_USAGE, "too many parameters");
		if (*options)
			strcat(options, " ");
		strcat(options, argv[i]);
	}
	if (module_loaded())
		return fail(EXIT_BUSY, "%s is already loaded", MODULE_NAME);
	ctx = kmod_open();
	if (!ctx)
		return fail(EXIT_ERROR, "cannot initialise libkmod");
	mod = module_lookup(ctx);
	if (!mod) {
		code = not_installed();
	} else {
		code = check_load_params(mod, argc, argv);
		if (!code) {
			err = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST,
							      options, NULL, NULL, NULL);
			code = err ? load_error(err < 0 ? err : -EPERM) : EXIT_OK;
		}
		if (!code)
			printf("%s loaded\n", MODULE_NAME);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return code;
}

/* The names under /sys/module/hvo_shared/parameters, for an error message. */
static void list_params(char *buf, size_t size)
{
	DIR *d = opendir(PARAMS);
	struct dirent *e;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		used += snprintf(buf + used, size - used, "%s%s", used ? " " : "", e->d_name);
		if (used >= size)
			break;
	}
	closedir(d);
}

/* NAME=VALUE is a parameter writable at run time: say why not otherwise. */
static int check_set_param(const char *arg, size_t len)
{
	char path[PATH_MAX], names[256];
	struct stat st;

	snprintf(path, sizeof(path), PARAMS "/%.*s", (int)len, arg);
	if (memchr(arg, '/', len) || stat(path, &st)) {
		list_params(names, sizeof(names));
		return fail(EXIT_USAGE, "unknown parameter '%.*s' (%s has: %s)",
			    (int)len, arg, MODULE_NAME, names);
	}
	if (!(st.st_mode & 0222))
		return fail(EXIT_USAGE, "parameter '%.*s' is read-only after load (hvoctl load %s)",
			    (int)len, arg, arg);
	return EXIT_OK;
}

static int write_param(const char *arg, size_t len)
{
	const char *value = arg + len + 1;
	char path[PATH_MAX];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), PARAMS "/%.*s", (int)len, arg);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return fail(EXIT_ERROR, "cannot open %s: %s", path, strerror(errno));
	n = write(fd, value, strlen(value));
	err = errno;
	if (close(fd) && n >= 0) {
		n = -1;
		err = errno;
	}
	if (n == (ssize_t)strlen(value))
		return EXIT_OK;
	if (n >= 0)
		return fail(EXIT_ERROR, "%s: short write", path);
	if (err == EINVAL)
		return fail(EXIT_USAGE, "%s refused %s (see dmesg)", MODULE_NAME, arg);
	return fail(EXIT_ERROR, "cannot set %s: %s", arg, strerror(err));
}

/* Run-time parameters: every name is checked before any is written. */
static int cmd_set(int argc, char **argv)
{
	int code = need_root();
	size_t len = 0;

	if (code)
		return code;
	if (!argc)
		return fail(EXIT_USAGE, "set: no NAME=VALUE given");
	if (!module_loaded())
		return fail(EXIT_NOT_LOADED, "%s is not loaded (hvoctl load)", MODULE_NAME);
	for (int i = 0; i < argc && !code; i++)
		code = param_name(argv[i], &len) ?: check_set_param(argv[i], len);
	for (int i = 0; i < argc && !code; i++) {
		param_name(argv[i], &len);
		code = write_param(argv[i], len);
		if (!code)
			printf("%s set\n", argv[i]);
	}
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
 * --json: a value is a JSON number only if it is a canonical integer that
 * fits 64 bits, as the kernel prints them; anything else is a string.
 */
static int cmd_stats(int json)
{
	int code = read_stats();
	long long v;

	if (code)
		return code;
	if (!json) {
		for (size_t i = 0; i < nr_stats; i++)
			printf("%s %s\n", stats[i].key, stats[i].value);
		return EXIT_OK;
	}
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

/* A counter of the last read_stats(), or 0 if absent or not a number. */
static long long stat_or_zero(const char *key)
{
	const char *s = stat_str(key);
	long long v;

	return s && parse_ll(s, &v) ? v : 0;
}

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
static int cmd_action(const char *name)
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
static int cmd_prometheus(void)
{
	static const char *const zone_keys[] = {
		"folios_optimized", "vmemmap_pages_freed", "vmemmap_pages_allocated",
		"shared_tail_pages", "saved_bytes",
	};
	static const struct { const char *prefix, *label; } families[] = {
		{ "injected.", "site" }, { "adopt_skipped.", "reason" },
	};
	int code = read_stats();
	long long v;

	if (code)
		return code;
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
			const char *k = stats[i].key, *zone, *p;
			unsigned long node, order;

			p = k + 4;
			if (strncmp(k, "node", 4) || !take_uint(&p, MAX_NODES, &node) ||
			    *p++ != '.' || !(zone = p) || !(p = strchr(p, '.')) ||
			    strncmp(p, ".order", 6))
				continue;
			{
				const char *q = p + 6;

				if (!take_uint(&q, MAX_ORDER_SEEN, &order) || *q != '.' ||
				    strcmp(q + 1, zone_keys[z]) || !parse_ll(stats[i].value, &v))
					continue;
			}
			if (!head)
				printf("# TYPE hvo_shared_zone_%s gauge\n", zone_keys[z]);
			head = true;
			printf("hvo_shared_zone_%s{node=\"%lu\",", zone_keys[z], node);
			print_label("zone", zone, p - zone);
			printf(",order=\"%lu\"} %lld\n", order, v);
		}
	}
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
		code = print_summary();
		if (code)
			return code;
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
		"  set NAME=VALUE...       change run-time parameters of the loaded module (root)\n"
		"  unload                  unload hvo_shared (root)\n"
		"  stats [--json|--prometheus]\n"
		"                          every counter of the stats file\n"
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
	if (!strcmp(cmd, "stats") && argc == 2)
		return cmd_stats(0);
	if (!strcmp(cmd, "stats") && argc == 3 && !strcmp(argv[2], "--json"))
		return cmd_stats(1);
	if (!strcmp(cmd, "stats") && argc == 3 && !strcmp(argv[2], "--prometheus"))
		return cmd_prometheus();
	if ((!strcmp(cmd, "adopt") || !strcmp(cmd, "restore")) && argc == 2)
		return cmd_action(cmd);
	if (!strcmp(cmd, "watch"))
		return main_watch(argc, argv);
	usage(stderr);
	return EXIT_USAGE;
}
