#!/bin/bash
# Job of tests/deb/04-package.sh in a guest booted from the root the
# packages were installed into: the packaged module loads, hvoctl drives
# it, and it optimizes a pool. Prints "pkg KEY VALUE" facts for the host.
. "$(dirname "$0")/../lib.sh"
fact() { echo "pkg $1 $2"; }

modprobe hvo_shared
fact modprobe $?
fact version "$(cat /sys/module/hvo_shared/version)"
fact path "$(modinfo -F filename hvo_shared)"
hvoctl status >/tmp/status 2>&1
fact hvoctl $?
sed 's/^/# hvoctl status: /' /tmp/status
pool_set 2048 "" 16
fact optimized "$(stat folios_optimized)"
pool_set 2048 "" 0
rmmod hvo_shared
fact rmmod $?
