// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_call_time: the duration of every call of the functions named in
 * funcs=, for make bench (docs/bench.md), by one method for the kernel's
 * HVO and for hvo_shared: a kretprobe on each, timestamps with
 * ktime_get_ns() at entry and at return. On the kernel's four HVO entry
 * points it times whichever body runs: the kernel's, or, while
 * hvo_shared's ftrace hooks are armed, hvo_shared's replacement (a
 * kretprobe's ftrace_ops does not modify the IP, so it coexists with the
 * hooks' IPMODIFY one, as kprobes do with livepatch).
 *
 *   insmod hvo_call_time.ko funcs=name[:list],...
 *
 * ":list": the function's second argument is a list of folios (linked
 * through folio->lru), counted at entry: the call is then for that many
 * folios, else for one. Module functions may be named once their module
 * is loaded; unload this one first.
 *
 * /sys/kernel/debug/hvo_call_time/calls: one line per call, in the order
 * they returned, "name folios ns"; writing to it empties it. Calls beyond
 * HVO_CALLS_MAX, and those kretprobes missed, are counted in "missed".
 */
#include <linux/debugfs.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#define HVO_FUNCS_MAX	16
#define HVO_CALLS_MAX	(1 << 18)

static char *funcs;
module_param(funcs, charp, 0444);
MODULE_PARM_DESC(funcs, "functions to time: name[:list],...");

struct call_probe {
	struct kretprobe rp;
	bool list;
};

/* Per call in flight, in the kretprobe instance. */
struct call_start {
	u64 t0;
	u32 folios;
};

struct call_record {
	u32 func;
	u32 folios;
	u64 ns;
};

static struct call_probe probes[HVO_FUNCS_MAX];
static int nr_probes;
static struct call_record *records;
static atomic_t nr_records;
static atomic_long_t overflow;
static struct dentry *dir;

static int call_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct call_probe *p = container_of(get_kretprobe(ri), struct call_probe, rp);
	struct call_start *s = (struct call_start *)ri->data;

	s->folios = p->list ?
		list_count_nodes((struct list_head *)regs_get_kernel_argument(regs, 1)) : 1;
	s->t0 = ktime_get_ns();
	return 0;
}

static int call_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 t1 = ktime_get_ns();
	struct call_probe *p = container_of(get_kretprobe(ri), struct call_probe, rp);
	struct call_start *s = (struct call_start *)ri->data;
	int i = atomic_inc_return(&nr_records) - 1;

	if (i >= HVO_CALLS_MAX) {
		atomic_long_inc(&overflow);
		return 0;
	}
	records[i] = (struct call_record){
		.func = p - probes, .folios = s->folios, .ns = t1 - s->t0,
	};
	return 0;
}

static int calls_show(struct seq_file *m, void *v)
{
	int i, n = min(atomic_read(&nr_records), HVO_CALLS_MAX);

	for (i = 0; i < n; i++)
		seq_printf(m, "%s %u %llu\n", probes[records[i].func].rp.kp.symbol_name,
			   records[i].folios, records[i].ns);
	return 0;
}

static int calls_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, calls_show, NULL,
				(size_t)max(atomic_read(&nr_records), 1) * 64);
}

static ssize_t calls_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	atomic_set(&nr_records, 0);
	return count;
}

static const struct file_operations calls_fops = {
	.owner = THIS_MODULE,
	.open = calls_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.write = calls_write,
	.release = single_release,
};

static int missed_show(struct seq_file *m, void *v)
{
	long missed = atomic_long_read(&overflow);
	int i;

	for (i = 0; i < nr_probes; i++)
		missed += probes[i].rp.nmissed;
	seq_printf(m, "%ld\n", missed);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(missed);

static void call_time_unregister(void)
{
	while (nr_probes > 0) {
		nr_probes--;
		unregister_kretprobe(&probes[nr_probes].rp);
		kfree(probes[nr_probes].rp.kp.symbol_name);
	}
}

static int __init call_time_init(void)
{
	char *list, *cur, *name, *suffix;
	int ret = 0;

	if (!funcs || !*funcs)
		return -EINVAL;
	records = vmalloc_array(HVO_CALLS_MAX, sizeof(*records));
	list = kstrdup(funcs, GFP_KERNEL);
	if (!records || !list) {
		ret = -ENOMEM;
		goto out;
	}
	cur = list;
	while ((name = strsep(&cur, ",")) && !ret) {
		struct call_probe *p = &probes[nr_probes];

		if (!*name)
			continue;
		if (nr_probes == HVO_FUNCS_MAX) {
			ret = -E2BIG;
			break;
		}
		suffix = strchr(name, ':');
		if (suffix)
			*suffix++ = '\0';
		*p = (struct call_probe){
			.rp.entry_handler = call_entry,
			.rp.handler = call_return,
			.rp.data_size = sizeof(struct call_start),
			.rp.maxactive = 64,
			.list = suffix && !strcmp(suffix, "list"),
		};
		p->rp.kp.symbol_name = kstrdup(name, GFP_KERNEL);
		if (!p->rp.kp.symbol_name) {
			ret = -ENOMEM;
			break;
		}
		ret = register_kretprobe(&p->rp);
		if (ret) {
			pr_err("hvo_call_time: %s: %d\n", name, ret);
			kfree(p->rp.kp.symbol_name);
			break;
		}
		nr_probes++;
	}
	if (!ret) {
		dir = debugfs_create_dir("hvo_call_time", NULL);
		debugfs_create_file("calls", 0600, dir, NULL, &calls_fops);
		debugfs_create_file("missed", 0400, dir, NULL, &missed_fops);
	}
out:
	kfree(list);
	if (ret) {
		call_time_unregister();
		vfree(records);
	}
	return ret;
}

static void __exit call_time_exit(void)
{
	debugfs_remove(dir);
	call_time_unregister();
	vfree(records);
}

module_init(call_time_init);
module_exit(call_time_exit);
MODULE_DESCRIPTION("hvo_shared bench: the duration of each call of given functions");
MODULE_LICENSE("GPL");
