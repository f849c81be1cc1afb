// SPDX-License-Identifier: GPL-2.0
/* The one place hvo_shared's tracepoints are defined (see trace.h). */
#define CREATE_TRACE_POINTS
#include "trace.h"
