// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/hvo_shared/stats: one "key value" pair per line, keys
 * documented in docs/stats.md and never renamed once documented. The file
 * is read-only, so it stays readable under lockdown.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>

#include "hvo_shared.h"

static struct dentry *hvo_debugfs_dir;

static const char *const hvo_state_names[] = {
	[HVO_STATE_LOADING]	= "loading",
	[HVO_STATE_READY]	= "ready",
	[HVO_STATE_UNLOADING]	= "unloading",
};

static int hvo_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %s\n", HVO_SHARED_VERSION);
	seq_printf(m, "kernel %s\n", init_utsname()->release);
	seq_printf(m, "state %s\n", hvo_state_names[READ_ONCE(hvo_state)]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hvo_stats);

int hvo_stats_init(void)
{
	struct dentry *file;

	hvo_debugfs_dir = debugfs_create_dir("hvo_shared", NULL);
	if (IS_ERR(hvo_debugfs_dir)) {
		pr_err("cannot create debugfs directory: %pe\n", hvo_debugfs_dir);
		return PTR_ERR(hvo_debugfs_dir);
	}
	file = debugfs_create_file("stats", 0444, hvo_debugfs_dir, NULL,
				   &hvo_stats_fops);
	if (IS_ERR(file)) {
		pr_err("cannot create debugfs stats file: %pe\n", file);
		debugfs_remove(hvo_debugfs_dir);
		return PTR_ERR(file);
	}
	return 0;
}

void hvo_stats_exit(void)
{
	debugfs_remove(hvo_debugfs_dir);
}
