/* SPDX-License-Identifier: GPL-2.0 */
/* ftrace hooks on the kernel's HVO entry points (hooks.c). */
#ifndef _HVO_HOOKS_H
#define _HVO_HOOKS_H

int hvo_hooks_install(void);
void hvo_hooks_stop_optimize(void);
void hvo_hooks_remove(void);

#endif /* _HVO_HOOKS_H */
