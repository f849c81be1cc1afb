// SPDX-License-Identifier: GPL-2.0
/*
 * hvoctl: the module through libkmod and sysfs: status, load, set, unload.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hvoctl.h"

/* Loaded, by any means: /sys/module has it. */
bool module_loaded(void)
{
	struct stat st;

	return stat(SYSFS_MODULE, &st) == 0;
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
int cmd_status(void)
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

/*
 * The kernel log from now on, to tell why a load failed: -1 if it cannot
 * be read, and then the error only says "see dmesg".
 */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The lines "hvo_shared: ..." logged since kmsg_open(), newline-separated
 * into buf (the last ones if they do not fit): the module's own reasons,
 * and the kernel's "`VALUE' invalid for parameter `NAME'".
 */
static void kmsg_lines(int fd, char *buf, size_t size)
{
	static const char prefix[] = MODULE_NAME ": ";
	char rec[2048];
	size_t used = 0;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	/* One record per read; EPIPE: records overwritten meanwhile, go on. */
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;
		size_t len;

		if (n < 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || strncmp(++msg, prefix, sizeof(prefix) - 1))
			continue;
		len = strcspn(msg, "\n");
		if (len + 2 > size)
			continue;
		if (used + len + 2 > size)
			used = 0;
		used += snprintf(buf + used, size - used, "%.*s\n", (int)len, msg);
	}
	close(fd);
}

/*
 * What a refused load means, in words, then what the kernel log says. A
 * parameter refused during the load is named by the kernel's parser,
 * whatever errno the module gave it: it is not an unsupported kernel.
 */
static int load_error(int err, const char *log)
{
	int code;

	if (strstr(log, "for parameter `"))
		code = fail(EXIT_USAGE, "a parameter was refused: %s", strerror(-err));
	else switch (-err) {
	case EEXIST:
		code = fail(EXIT_BUSY, "%s is already loaded", MODULE_NAME);
		break;
	case EINVAL:
		code = fail(EXIT_USAGE, "a parameter was refused: %s", strerror(-err));
		break;
	case EOPNOTSUPP:
	case ENODEV:
	case ENOEXEC:
		code = fail(EXIT_UNSUPPORTED, "this kernel is not supported by %s: %s",
			    MODULE_NAME, strerror(-err));
		break;
	case ENOENT:
		code = fail(EXIT_UNSUPPORTED, "this kernel lacks a symbol or function %s needs",
			    MODULE_NAME);
		break;
	case EBUSY:
		code = fail(EXIT_BUSY, "the kernel's HVO functions are hooked by something else");
		break;
	default:
		code = fail(EXIT_ERROR, "cannot load %s: %s", MODULE_NAME, strerror(-err));
	}
	if (*log)
		fprintf(stderr, "hvoctl: the kernel log says:\n%s", log);
	else
		fprintf(stderr, "hvoctl: see dmesg\n");
	return code;
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

/* The length of NAME in "NAME=VALUE"; 0 if arg is not that (no name is empty). */
static size_t param_name(const char *arg)
{
	const char *eq = strchr(arg, '=');

	return eq ? eq - arg : 0;
}

static int not_name_value(const char *arg)
{
	return fail(EXIT_USAGE, "parameter '%s' is not name=value", arg);
}

/*
 * The kernel ignores unknown parameters and loads anyway ("unknown
 * parameter ... ignored" in dmesg): check every name against the
 * module file's own list (modinfo's parm) before loading. Every argument
 * is NAME=VALUE already.
 */
static int check_load_params(struct kmod_module *mod, int argc, char **argv)
{
	struct kmod_list *info = NULL, *l;
	int code = EXIT_OK;

	if (kmod_module_get_info(mod, &info) < 0)
		return fail(EXIT_ERROR, "cannot read the parameters of %s", kmod_module_get_path(mod));
	for (int i = 0; i < argc && !code; i++) {
		size_t len = param_name(argv[i]);
		bool known = false;

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

int cmd_load(int argc, char **argv)
{
	char options[1024] = "", log[4096];
	int code = need_root(), err, kmsg;
	struct kmod_module *mod;
	struct kmod_ctx *ctx;

	if (code)
		return code;
	for (int i = 0; i < argc; i++) {
		if (!param_name(argv[i]))
			return not_name_value(argv[i]);
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
			kmsg = kmsg_open();
			err = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST,
							      options, NULL, NULL, NULL);
			if (err) {
				kmsg_lines(kmsg, log, sizeof(log));
				code = load_error(err < 0 ? err : -EPERM, log);
			} else if (kmsg >= 0) {
				close(kmsg);
			}
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
int cmd_set(int argc, char **argv)
{
	int code = need_root();

	if (code)
		return code;
	if (!argc)
		return fail(EXIT_USAGE, "set: no NAME=VALUE given");
	if (!module_loaded())
		return fail(EXIT_NOT_LOADED, "%s is not loaded (hvoctl load)", MODULE_NAME);
	for (int i = 0; i < argc && !code; i++) {
		size_t len = param_name(argv[i]);

		code = len ? check_set_param(argv[i], len) : not_name_value(argv[i]);
	}
	for (int i = 0; i < argc && !code; i++) {
		code = write_param(argv[i], param_name(argv[i]));
		if (!code)
			printf("%s set\n", argv[i]);
	}
	return code;
}

int cmd_unload(void)
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
