/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Controls and reports, registered by main.c: the adopt= and restore=
 * parameters (control.c), and the debugfs files stats (stats.c) and
 * verify (verify.c).
 */
#ifndef _HVO_CONTROL_H
#define _HVO_CONTROL_H

struct dentry;

void hvo_control_start(void);
void hvo_control_exit(void);
int hvo_stats_init(struct dentry *dir);
int hvo_verify_init(struct dentry *dir);

#endif /* _HVO_CONTROL_H */
