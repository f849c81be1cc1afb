#!/bin/bash
# Boot-time adoption as the packages ship it: a 7.3 guest booted with
# "hugepagesz=1G hugepages=2 hugepagesz=2M hugepages=512" from a throwaway
# overlay of root-7.3 (hvo_shared installed there by DKMS) in which the
# shipped /etc/modprobe.d (adopt=1) and /etc/modules-load.d examples are
# enabled has every folio of both pools optimized when boot is done, with
# no step of ours. The guest's init runs systemd-modules-load, as
# systemd-modules-load.service does early in a systemd boot; before it,
# 16 of the 2 MiB folios are put in use (a hugetlbfs file), which only
# adopt=1 optimizes: takeover takes free folios only. Prints the kernel's
# time from boot to all optimized.
# A 6 GiB guest of its own, from its own root (make check-deb).
# timeout: 1200
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"
cd "$REPO" || exit 1
plan 13

BOOT="hugepagesz=1G hugepages=2 hugepagesz=2M hugepages=512"
kernel_vars 7.3
work=$(mktemp -d "$HVO_CACHE/boot-adopt.XXXX")
merged=$work/root
trap 'umount -l "$merged" 2>/dev/null; rm -rf "$work"' EXIT
fact() { sed -n "s/^boot $1 //p" <<<"$2" | tail -n 1; }

mkdir -p "$work/upper" "$work/ovl" "$merged"
mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$work/upper,workdir=$work/ovl" "$merged"
tap $? "a throwaway overlay of $ROOT"
# The shipped examples, their hvo_shared lines uncommented, as an
# operator enables them.
sed 's/^#\(options hvo_shared adopt=1\)$/\1/' tools/etc/modprobe.d/hvo_shared.conf \
	>"$merged/etc/modprobe.d/hvo_shared.conf"
sed 's/^#\(hvo_shared\)$/\1/' tools/etc/modules-load.d/hvo_shared.conf \
	>"$merged/etc/modules-load.d/hvo_shared.conf"
ok "the examples, enabled: options hvo_shared adopt=1, and hvo_shared to load" -- \
	test "$(grep -hv '^#' "$merged"/etc/modprobe.d/hvo_shared.conf "$merged"/etc/modules-load.d/hvo_shared.conf |
		tr '\n' '|')" = "options hvo_shared adopt=1|hvo_shared|"
mkdir -p "$merged/etc/hvo-test"
printf '%s\n' '#!/bin/sh' 'mkdir -p /dev/hugepages' \
	'mount -t hugetlbfs -o pagesize=2M none /dev/hugepages &&' \
	'	fallocate -l 32M /dev/hugepages/held' >"$merged/etc/hvo-test/before-modules-load"
chmod +x "$merged/etc/hvo-test/before-modules-load"

out=$(HVO_ROOT=$merged tests/vm/run --kernel 7.3 --no-build --mem 6144 --timeout 900 \
	--append "$BOOT" -- bash tests/guest/jobs/boot-adopt.sh 2>&1)
rc=$?
tap $rc "guest booted with $BOOT finished with a clean kernel log"
[ $rc = 0 ] || tail -n 30 <<<"$out" | sed 's/^/#   /'
grep '^# ' <<<"$out"
is "$(fact loaded "$out")" yes "hvo_shared was loaded at boot"
is "$(fact pools "$out")" "2 512" "  ... the pools the command line asked for: 2 of 1 GiB, 512 of 2 MiB"
is "$(fact held "$out")" 16 "  ... 16 of the 2 MiB folios in use before it loaded"
is "$(fact state "$out") $(fact optimized "$out")" "active 514" "  ... every folio of both pools optimized, by the time the job started"
is "$(fact took "$out") $(fact in_use "$out")" "498 16" \
	"  ... takeover optimized the 498 free, adopt=1 the 16 in use, which takeover never touches"
is "$(fact order18 "$out") $(fact order9 "$out")" "2 512" "  ... 2 of order 18, 512 of order 9"
is "$(fact freed "$out")" $((2 * 4095 + 512 * 7)) "  ... vmemmap_pages_freed 4095 per 1 GiB folio, 7 per 2 MiB"
is "$(fact verify "$out")" "ok: 514 folios" "  ... verify passes"
is "$(fact restore "$out") $(fact restored "$out") $(fact left "$out")" "0 $((2 * 4095 + 512 * 7)) 0" \
	"  ... restore gives it all back: nr_memmap_* up by as much"
done_at=$(fact done_at "$out")
load_at=$(fact load_at "$out")
diag "boot to all optimized: ${done_at:-?} s (kernel time; the module's load began at ${load_at:-?} s)"
ok "boot to all optimized: ${done_at:-?} s of kernel time (the job started at $(fact uptime "$out") s)" -- \
	test -n "$done_at"
umount "$merged"
tap_done
