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
 *   insmod hvo_call_time.ko funcs=name[:kind],...
 *
 * ":kind" says what the function does to the folios it is given, so that
 * a call is for the folios it changed, counted at return from their
 * vmemmap-optimized flags:
 *   optimize       folio (argument 1): 1 if its flag went from clear to set
 *   optimize_list  list (argument 1): how many flags went from clear to set
 *   restore        folio (argument 1): 1 if its flag went from set to clear
 *   restore_list   lists (arguments 1 and 2, as
 *                  hugetlb_vmemmap_restore_folios() moves them): how many
 *                  flags went from set to clear
 * With no kind (or "one") a call is for one folio. Module functions may be named
 * once their module is loaded; unload this one first.
 *
 * /sys/kernel/debug/hvo_call_time/calls: one line per call, in the order
 * they returned, "name folios ns"; writing to it empties it and zeroes
 * "missed": the calls kretprobes missed (maxactive reached) and those
 * beyond HVO_CALLS_MAX. A run with missed calls is not a measurement.
 */
#include <linux/debugfs.h>
#include <linux/hugetlb.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#define HVO_FUNCS_MAX	16
#define HVO_CALLS_MAX	(1 << 18)

static char *funcs;
module_param(funcs, charp, 0444);
MODULE_PARM_DESC(funcs, "functions to time: name[:kind],...");

enum call_kind {
	CALL_ONE,
	CALL_OPTIMIZE,
	CALL_OPTIMIZE_LIST,
	CALL_RESTORE,
	CALL_RESTORE_LIST,
};

static const char * const call_kind_names[] = {
	[CALL_ONE] = "one",
	[CALL_OPTIMIZE] = "optimize",
	[CALL_OPTIMIZE_LIST] = "optimize_list",
	[CALL_RESTORE] = "restore",
	[CALL_RESTORE_LIST] = "restore_list",
};

struct call_probe {
	struct kretprobe rp;
	enum call_kind kind;
	unsigned long missed_base;
};

/* Per call in flight, in the kretprobe instance. */
struct call_start {
	u64 t0;
	void *arg[2];
	unsigned int optimized;
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

/* How many folios of a list (linked through folio->lru) are optimized. */
static unsigned int nr_optimized(struct list_head *list)
{
	struct folio *folio;
	unsigned int n = 0;

	if (!list)
		return 0;
	list_for_each_entry(folio, list, lru)
		n += folio_test_hugetlb_vmemmap_optimized(folio);
	return n;
}

/*
 * The optimized folios among a call's arguments. The caller owns them
 * for the whole call, so they can be read at entry and at return.
 */
static unsigned int call_optimized(enum call_kind kind, void * const *arg)
{
	switch (kind) {
	case CALL_OPTIMIZE:
	case CALL_RESTORE:
		return folio_test_hugetlb_vmemmap_optimized(arg[0]);
	case CALL_OPTIMIZE_LIST:
		return nr_optimized(arg[0]);
	case CALL_RESTORE_LIST:
		return nr_optimized(arg[0]) + nr_optimized(arg[1]);
	default:
		return 0;
	}
}

static int call_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct call_probe *p = container_of(get_kretprobe(ri), struct call_probe, rp);
	struct call_start *s = (struct call_start *)ri->data;

	s->arg[0] = (void *)regs_get_kernel_argument(regs, 1);
	s->arg[1] = p->kind == CALL_RESTORE_LIST ?
		(void *)regs_get_kernel_argument(regs, 2) : NULL;
	s->optimized = call_optimized(p->kind, s->arg);
	s->t0 = ktime_get_ns();
	return 0;
}

static int call_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 t1 = ktime_get_ns();
	struct call_probe *p = container_of(get_kretprobe(ri), struct call_probe, rp);
	struct call_start *s = (struct call_start *)ri->data;
	unsigned int now = call_optimized(p->kind, s->arg), folios;
	int i;

	switch (p->kind) {
	case CALL_OPTIMIZE:
	case CALL_OPTIMIZE_LIST:
		folios = now > s->optimized ? now - s->optimized : 0;
		break;
	case CALL_RESTORE:
	case CALL_RESTORE_LIST:
		folios = s->optimized > now ? s->optimized - now : 0;
		break;
	default:
		folios = 1;
	}
	i = atomic_inc_return(&nr_records) - 1;
	if (i >= HVO_CALLS_MAX) {
		atomic_long_inc(&overflow);
		return 0;
	}
	records[i] = (struct call_record){
		.func = p - probes, .folios = folios, .ns = t1 - s->t0,
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
	int i;

	atomic_set(&nr_records, 0);
	atomic_long_set(&overflow, 0);
	for (i = 0; i < nr_probes; i++)
		probes[i].missed_base = READ_ONCE(probes[i].rp.nmissed);
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
		missed += READ_ONCE(probes[i].rp.nmissed) - probes[i].missed_base;
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
			.kind = CALL_ONE,
		};
		if (suffix) {
			ret = match_string(call_kind_names, ARRAY_SIZE(call_kind_names), suffix);
			if (ret < 0) {
				pr_err("hvo_call_time: %s: unknown kind %s\n", name, suffix);
				break;
			}
			p->kind = ret;
			ret = 0;
		}
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
