#!/bin/bash
# Job of tests/deb/04-package.sh: version N of the packages is installed;
# N loaded, a process's hugetlbfs mapping adopted; the host installs N+1
# meanwhile (dpkg -i, into the root this guest runs on); then rmmod N,
# modprobe N+1, restore: every folio N optimized comes back, the data
# intact. Prints "pkg KEY VALUE" facts for the host.
#   package-upgrade.sh SIGNAL_DIR
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bin/kpaths.sh"
sig=$1
fact() { echo "pkg $1 $2"; }

clean_start
mm0=$(memmap_pages)
pool_set 2048 "" 24
watch_start used file 16 /dev/hugepages
fact watch $?
modprobe hvo_shared adopt=1
fact loaded "$(cat /sys/module/hvo_shared/version)"
fact optimized "$(stat folios_optimized)"
fact adopted "$(stat adopt_total)"
fact saved "$(( mm0 - $(memmap_pages) ))"
fact freed "$(stat vmemmap_pages_freed)"

# The host upgrades the packages now; wait for it (15 minutes at most).
: >"$sig/ready"
for _ in $(seq 900); do [ -e "$sig/upgraded" ] && break; sleep 1; done
fact upgraded "$([ -e "$sig/upgraded" ] && echo yes || echo no)"
# The root is shared over 9p with cache=loose: forget what was read of
# /lib/modules before the upgrade.
sync
echo 3 >/proc/sys/vm/drop_caches
fact still_loaded "$(cat /sys/module/hvo_shared/version)"
fact on_disk "$(modinfo -F version hvo_shared)"
rmmod hvo_shared
fact rmmod $?
fact after_rmmod "$(( mm0 - $(memmap_pages) ))"
modprobe hvo_shared
fact modprobe $?
fact new "$(cat /sys/module/hvo_shared/version)"
hvoctl restore >/tmp/restore 2>&1
fact restore $?
sed 's/^/# hvoctl restore: /' /tmp/restore
fact inherited "$(stat restore_all_inherited)"
fact left "$(stat folios_optimized)"
fact memmap_delta "$(( mm0 - $(memmap_pages) ))"
fact verify "$(verify_line)"
# shellcheck disable=SC2154 # watch_start sets it through eval
kill -USR1 "$W_used"
wait "$W_used"
fact data $?
sed 's/^/# watch: /' /tmp/adopt-used.out
rmmod hvo_shared
pool_set 2048 "" 0
