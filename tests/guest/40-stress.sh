#!/bin/bash
# timeout: 600
# The concurrency stress of tests/stress/stress.sh in its short form (40 s
# of churn with the module, then 40 s with the kernel's HVO alone):
# pools, map workers, readers, parameter writes and module cycling at
# once on both nodes and page sizes, then the kernel's HVO as the anchor.
# `make stress` runs the 30-minute form; see docs/reliability.md.
STRESS_SECONDS=${STRESS_SECONDS:-60} STRESS_BUDGET=${STRESS_BUDGET:-240} exec bash "$(dirname "$0")/../stress/stress.sh"
