// SPDX-License-Identifier: GPL-2.0
/*
 * mlockall.so: LD_PRELOAD it to keep a process and its children resident
 * (mlockall(MCL_CURRENT | MCL_FUTURE) at start), so that a test that
 * exhausts memory on purpose does not make them fault and wake the OOM
 * killer.
 */
#include <sys/mman.h>

__attribute__((constructor)) static void lock_everything(void)
{
	mlockall(MCL_CURRENT | MCL_FUTURE);
}
