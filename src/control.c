// SPDX-License-Identifier: GPL-2.0
/*
 * Adopt and restore on demand, through module parameters (which work
 * under lockdown, unlike debugfs):
 *
 *   echo 1 > /sys/module/hvo_shared/parameters/adopt
 *	optimize what the hstates=/nodes= policy wants: the free folios,
 *	then the folios in use (hvo_adopt_all());
 *   echo 1 > /sys/module/hvo_shared/parameters/restore
 *	give every optimized folio, free or in use, its vmemmap back
 *	(hvo_restore_all()); fails with ENOMEM if some could not be, which
 *	a later write retries.
 *
 * Given at load (modprobe hvo_shared adopt=1, or options in
 * /etc/modprobe.d), they run once the module is active. Reading either
 * gives 1 while it runs, else 0.
 */
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "hvo_actions.h"
#include "hvo_control.h"
#include "hvo_state.h"

/* One adopt or restore at a time; unload waits for it (hvo_control_exit()). */
static DEFINE_MUTEX(hvo_adopt_mutex);
static bool hvo_adopt_closed;

enum {
	HVO_RUN_ADOPT	= BIT(0),
	HVO_RUN_RESTORE	= BIT(1),
};

/*
 * Requests made at load (modprobe hvo_shared adopt=1, or options in
 * /etc/modprobe.d), before the module is active: hvo_control_start() runs
 * them. Under hvo_adopt_mutex.
 */
static unsigned int hvo_adopt_pending;
/* The request running, for reads of the parameters. */
static unsigned int hvo_adopt_running;

/* Run @what, with hvo_adopt_mutex held. */
static int hvo_adopt_do(unsigned int what)
{
	int ret = 0;

	WRITE_ONCE(hvo_adopt_running, what);
	if (what & HVO_RUN_ADOPT)
		hvo_adopt_all();
	/* What is left (no memory, or busy) is retried by another write. */
	if ((what & HVO_RUN_RESTORE) && hvo_restore_all())
		ret = -ENOMEM;
	WRITE_ONCE(hvo_adopt_running, 0);
	return ret;
}

/*
 * A write of 1 to adopt or restore. Before the module is active (a
 * parameter given at load) it is kept for hvo_control_start(). Otherwise it
 * runs now, outside the module's parameter lock, which the caller holds:
 * a run takes minutes on a big pool, and every read or write of another
 * parameter would wait for it. One run at a time; another write meanwhile
 * fails at once with EBUSY.
 */
static int hvo_adopt_trigger(const char *val, unsigned int what, const char *name)
{
	int ret;

	if (!sysfs_streq(val, "1")) {
		pr_err("%s='%.*s': write 1 to run it\n", name, (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	/* hvo_control_start() sets the module active under the mutex. */
	if (READ_ONCE(hvo_state) == HVO_STATE_LOADING) {
		mutex_lock(&hvo_adopt_mutex);
		if (hvo_state == HVO_STATE_LOADING) {
			hvo_adopt_pending |= what;
			mutex_unlock(&hvo_adopt_mutex);
			return 0;
		}
		mutex_unlock(&hvo_adopt_mutex);
	}

	kernel_param_unlock(THIS_MODULE);
	if (!mutex_trylock(&hvo_adopt_mutex)) {
		pr_err("%s: an adopt or restore is running\n", name);
		ret = -EBUSY;
	} else {
		if (hvo_adopt_closed) {
			pr_err("%s: the module is unloading\n", name);
			ret = -ENODEV;
		} else {
			ret = hvo_adopt_do(what);
		}
		mutex_unlock(&hvo_adopt_mutex);
	}
	kernel_param_lock(THIS_MODULE);
	return ret;
}

static int hvo_adopt_set(const char *val, const struct kernel_param *kp)
{
	return hvo_adopt_trigger(val, HVO_RUN_ADOPT, "adopt");
}

static int hvo_restore_set(const char *val, const struct kernel_param *kp)
{
	return hvo_adopt_trigger(val, HVO_RUN_RESTORE, "restore");
}

/* Reads 1 while that run is in progress, else 0. */
static int hvo_adopt_get(char *buffer, const struct kernel_param *kp)
{
	unsigned int what = (unsigned long)kp->arg;

	return sysfs_emit(buffer, "%d\n", !!(READ_ONCE(hvo_adopt_running) & what));
}

static const struct kernel_param_ops hvo_adopt_ops = {
	.set = hvo_adopt_set,
	.get = hvo_adopt_get,
};
static const struct kernel_param_ops hvo_restore_ops = {
	.set = hvo_restore_set,
	.get = hvo_adopt_get,
};
module_param_cb(adopt, &hvo_adopt_ops, (void *)HVO_RUN_ADOPT, 0644);
MODULE_PARM_DESC(adopt, "write 1: optimize the free folios and those in use that the policy wants (at load: once active); reads 1 while running");
module_param_cb(restore, &hvo_restore_ops, (void *)HVO_RUN_RESTORE, 0644);
MODULE_PARM_DESC(restore, "write 1: restore every optimized folio, free or in use (at load: once active); reads 1 while running");

/**
 * hvo_control_start - the module is active: run what was asked for at load
 *
 * Called by hvo_shared_init() once the hooks are in and the free pools
 * taken over. A failure (no memory for every restore) is logged, and does
 * not fail the load: another write retries.
 */
void hvo_control_start(void)
{
	unsigned int what;

	mutex_lock(&hvo_adopt_mutex);
	WRITE_ONCE(hvo_state, HVO_STATE_ACTIVE);
	what = hvo_adopt_pending;
	hvo_adopt_pending = 0;
	if (what && hvo_adopt_do(what))
		pr_warn("restore at load: some folios left optimized; write 1 to restore to retry\n");
	mutex_unlock(&hvo_adopt_mutex);
}

/* Called first at unload: waits for a running adopt or restore. */
void hvo_control_exit(void)
{
	mutex_lock(&hvo_adopt_mutex);
	hvo_adopt_closed = true;
	mutex_unlock(&hvo_adopt_mutex);
}
