#!/bin/bash
# The demo, as a user would type it on a real machine (see tests/demo).
set -e
show() { echo; echo "\$ $*"; "$@"; }

version=$(ls /usr/src | sed -n 's/^hvo_shared-//p' | head -n 1)
show dkms install "hvo_shared/$version" -k "$(uname -r)"
show modprobe hvo_shared
show cat /sys/kernel/debug/hvo_shared/stats
show grep -r . /sys/module/hvo_shared/parameters
show grep -E 'nr_memmap' /proc/vmstat
echo; echo "\$ echo 256 > /proc/sys/vm/nr_hugepages"
echo 256 >/proc/sys/vm/nr_hugepages
show grep -E 'HugePages_(Total|Free)' /proc/meminfo
show grep -E 'nr_memmap' /proc/vmstat
show cat /sys/kernel/debug/hvo_shared/stats
echo; echo "\$ echo 0 > /proc/sys/vm/nr_hugepages"
echo 0 >/proc/sys/vm/nr_hugepages
show rmmod hvo_shared
show dkms status hvo_shared
