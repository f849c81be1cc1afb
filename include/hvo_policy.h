/* SPDX-License-Identifier: GPL-2.0 */
/* Which folios hvo_shared optimizes: the hstates= and nodes= parameters (policy.c). */
#ifndef _HVO_POLICY_H
#define _HVO_POLICY_H

#include <linux/types.h>

bool hvo_policy_wants(unsigned int order, int nid);

#endif /* _HVO_POLICY_H */
