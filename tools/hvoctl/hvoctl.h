/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvoctl: what its files share. main.c dispatches the commands; stats.c
 * reads the stats file; kmod.c and action.c drive the module; output_*.c
 * print the stats in one format each.
 */
#ifndef HVOCTL_H
#define HVOCTL_H

#include <stdbool.h>
#include <stddef.h>

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

/* main.c */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int need_root(void);

/* stats.c: the last read_stats(), in file order. */
struct stat_kv {
	char *key;
	char *value;
};

extern struct stat_kv *stats;
extern size_t nr_stats;
extern const char *stats_path;
extern bool stats_path_test;

/*
 * Per-node sums of the per-(node, zone, order) keys, modulo 2^64 as the
 * kernel's counters wrap; saved is signed, read as such when printed.
 */
struct node_sum {
	unsigned long long folios, freed, allocated, tails, saved;
	double vmemmap_bytes;
	bool seen;
};

/* A "nodeN.ZONE.orderK.FIELD" key's parts; zone is not NUL-terminated. */
struct zone_key {
	unsigned long node, order;
	const char *zone, *field;
	size_t zone_len;
};

bool parse_ll(const char *s, long long *v);
bool parse_u64(const char *s, unsigned long long *v);
bool parse_int64(const char *s, unsigned long long *v);
size_t utf8_len(const unsigned char *s);
int take_uint(const char **p, unsigned long max, unsigned long *v);
int split_key(const char *key, struct zone_key *k);
int read_stats(void);
const char *stat_str(const char *key);
int stat_num(const char *key, long long *v);
int stat_u64(const char *key, unsigned long long *v);
long long stat_or_zero(const char *key);
int sum_nodes(struct node_sum *nodes, int *max);

/* kmod.c */
bool module_loaded(void);
int cmd_status(void);
int cmd_load(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_unload(void);

/* action.c */
int cmd_action(const char *name);

/* output_text.c */
int print_summary(void);
int print_stats_text(void);
int cmd_watch(int interval, int count);

/* output_json.c */
int print_stats_json(void);

/* output_prom.c */
int print_stats_prometheus(void);

#endif
