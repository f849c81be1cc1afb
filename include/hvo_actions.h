/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole-pool actions (actions.c): take over and give back the free folios
 * at load and unload, adopt and restore all on demand.
 */
#ifndef _HVO_ACTIONS_H
#define _HVO_ACTIONS_H

void hvo_pool_takeover(void);
void hvo_pool_giveback(void);
void hvo_adopt_all(void);
long hvo_restore_all(void);

#endif /* _HVO_ACTIONS_H */
