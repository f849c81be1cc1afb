#!/bin/bash
# The Debian packages as an operator uses them, on a throwaway overlay of
# root-pkg (sid with the 7.2 and 7.3 kernels and 6.12 headers; tests/vm/prepare
# pkg), which is left as it was: make deb builds them lintian-clean;
# apt install ./*.deb has DKMS build for 7.3 and 7.2 and refuse 6.12; the
# module loads on 7.2 booted from that root; with version N
# loaded and a process's hugetlbfs mapping adopted, dpkg -i of N+1 (N's
# packages repacked with the version bumped), rmmod,
# modprobe and restore give back everything N optimized, the data intact;
# apt purge leaves no file behind.
# Guests of its own, from its own root (make check-deb).
export HVO_VM_MEM=${HVO_VM_MEM:-3072}
# timeout: 1800
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"
cd "$REPO" || exit 1
plan 35

kernel_vars 7.3; k73=$KVER
kernel_vars 7.2; k72=$KVER
n=$(cat VERSION)
next=${n%.*}.$(( ${n##*.} + 1 ))
work=$(mktemp -d "$HVO_CACHE/pkg-test.XXXX")
merged=$work/root
cleanup() {
	umount -l "$merged" 2>/dev/null
	rm -rf "$work" "$REPO/build/pkg-test.$$"
}
trap cleanup EXIT
fact() { sed -n "s/^pkg $1 //p" <<<"$2" | tail -n 1; }

tests/vm/prepare pkg >/dev/null || { tap 1 "tests/vm/prepare pkg"; tap_done; exit 1; }
out=$(tests/deb/build "$work/deb-n" 2>&1)
tap $? "make deb builds version $n, lintian finds no error or warning"
[ -e "$work/deb-n/hvoctl_${n}_amd64.deb" ] || sed 's/^/#   /' <<<"$out"

# repack IN OUT: version N's packages as version NEXT, not built again:
# the version in each control file, in the DKMS maintainer scripts and
# in the DKMS source tree (its directory, dkms.conf, VERSION, from which
# the module takes its version). hvoctl's binary keeps N's version
# string; nothing here reads it.
repack() {
	local deb d name v=${n//./\\.}
	mkdir -p "$2" "$work/repack"
	for deb in "$1"/*_"$n"_*.deb; do
		name=$(basename "$deb")
		[[ $name == *-dbgsym_* ]] && continue
		d=$work/repack/${name%%_*}
		rm -rf "$d"
		dpkg-deb -R "$deb" "$d" || return 1
		sed -i "s/^Version: $v\$/Version: $next/" "$d/DEBIAN/control"
		if [ -d "$d/usr/src/hvo_shared-$n" ]; then
			mv "$d/usr/src/hvo_shared-$n" "$d/usr/src/hvo_shared-$next"
			sed -i "s/^PACKAGE_VERSION=\"$v\"\$/PACKAGE_VERSION=\"$next\"/" \
				"$d/usr/src/hvo_shared-$next/dkms.conf"
			echo "$next" >"$d/usr/src/hvo_shared-$next/VERSION"
			sed -i "s/^DKMS_VERSION=$v\$/DKMS_VERSION=$next/" "$d"/DEBIAN/postinst "$d"/DEBIAN/prerm
		fi
		(cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort |
			xargs -r md5sum >DEBIAN/md5sums)
		dpkg-deb -b "$d" "$2/${name/_${n}_/_${next}_}" >/dev/null || return 1
	done
}
repack "$work/deb-n" "$work/deb-next"
ok "  ... and version $next, by repacking it" -- \
	test "$(dpkg-deb -f "$work/deb-next/hvo-shared-dkms_${next}_all.deb" Version) $(dpkg-deb -f \
		"$work/deb-next/hvoctl_${next}_amd64.deb" Version)" = "$next $next"
ok "  ... its DKMS scripts and source tree say $next, and nothing says $n" -- \
	bash -c 'd=$1/repack/hvo-shared-dkms; grep -q "^DKMS_VERSION=$3$" "$d/DEBIAN/postinst" "$d/DEBIAN/prerm" &&
		test "$(cat "$d/usr/src/hvo_shared-$3/VERSION")" = "$3" &&
		grep -qx "PACKAGE_VERSION=\"$3\"" "$d/usr/src/hvo_shared-$3/dkms.conf" &&
		! grep -rqF "$2" "$d/DEBIAN" "$d/usr/src"' _ "$work" "$n" "$next"

mkdir -p "$work/upper" "$work/ovl" "$merged"
: >"$work/stamp"
mount -t overlay overlay -o "lowerdir=$HVO_CACHE/root-pkg,upperdir=$work/upper,workdir=$work/ovl" "$merged"
tap $? "a throwaway overlay of root-pkg"
# dkms's module signing key is made at its first build on a machine, is
# in no package, and stays across purges: made here on purpose, before
# the first list of files, so that both lists have it.
out=$(in_root "$merged" dkms generate_mok 2>&1)
tap $? "dkms generate_mok, before anything is installed"
[ -s "$merged/var/lib/dkms/mok.pub" ] || sed 's/^/#   /' <<<"$out"

# Every file of the root but the package manager's own records and logs,
# and what the bench itself puts there (test programs, its lock, the
# mount points of the job and of this tree).
top=${REPO#/} top=./${top%%/*}
files() {
	(cd "$merged" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/log -o -path ./var/cache/apt -o -path ./var/cache/debconf \
		-o -path ./var/cache/ldconfig -o -path ./var/lib/dpkg -o -path ./var/lib/apt \
		-o -path './opt/hvo-*' -o -path ./opt/.hvo-tests.lock -o -path ./hvo-job \
		-o -path "$top" \) -prune -o -print | sort)
}
files >"$work/before"

mkdir -p "$merged/tmp/debs"
cp "$work"/deb-n/*.deb "$work"/deb-next/*.deb "$merged/tmp/debs/"
out=$(in_root "$merged" sh -c 'cd /tmp/debs && apt-get install -y "./$1" "./$2"' _ \
	"hvo-shared-dkms_${n}_all.deb" "hvoctl_${n}_amd64.deb" 2>&1)
tap $? "apt install ./hvo-shared-dkms_${n}_all.deb ./hvoctl_${n}_amd64.deb"
# Their dependencies (dkms, headers, libkmod) were all there: offline.
ok "  ... installs those two packages and nothing else" -- \
	grep -q "^0 upgraded, 2 newly installed, 0 to remove" <<<"$out"
sed 's/^/#   /' <<<"$out" | grep -E 'Building|installed|BUILD_EXCLUSIVE|not supported|rror' | head -n 20
status=$(in_root "$merged" dkms status hvo_shared 2>&1)
for k in "$k73" "$k72"; do
	ok "  ... DKMS built and installed it for $k" -- \
		grep -q "hvo_shared/$n, $k, x86_64: installed" <<<"$status"
done
old=$(old_kver "$merged")
ok "  ... refused $old with DKMS's BUILD_EXCLUSIVE message and the reason" -- \
	bash -c 'grep -q BUILD_EXCLUSIVE <<<"$1" && grep -q "kernel $2 is not supported" <<<"$1"' _ "$out" "$old"
ok "  ... hvoctl and the bpftrace tools on PATH, manual pages and completion installed" -- \
	test -x "$merged/usr/sbin/hvoctl" -a -x "$merged/usr/sbin/hvo-events.bt" \
	-a -s "$merged/usr/share/man/man8/hvoctl.8.gz" -a -e "$merged/usr/share/man/man8/hvo-events.bt.8.gz" \
	-a -s "$merged/usr/share/bash-completion/completions/hvoctl"
ok "  ... /etc/modprobe.d and /etc/modules-load.d examples, all commented out" -- \
	bash -c 'f=("$1/etc/modprobe.d/hvo_shared.conf" "$1/etc/modules-load.d/hvo_shared.conf")
		test -s "${f[0]}" -a -s "${f[1]}" && ! grep -qv "^#" "${f[@]}"' _ "$merged"

# A 7.2 guest booted from the overlay (the upgrade guest below is 7.3's).
# The upgrade guest and this script signal each other through a directory
# of this tree, which the guest sees uncached.
job_dir=$REPO/build/pkg-test.$$
mkdir -p "$job_dir"
kernel_vars 7.2
out=$(HVO_ROOT=$merged tests/vm/run --kernel 7.2 --no-build --timeout 900 -- \
	bash tests/guest/jobs/package-load.sh 2>&1)
rc=$?
tap $rc "guest $KVER booted from the root the packages went into"
[ $rc = 0 ] || tail -n 20 <<<"$out" | sed 's/^/#   /'
is "$(fact modprobe "$out") $(fact version "$out")" "0 $n" "  ... modprobe hvo_shared loads version $n"
ok "  ... from DKMS's directory" -- grep -q "^/lib/modules/$KVER/updates/dkms/hvo_shared.ko" <<<"$(fact path "$out")"
is "$(fact hvoctl "$out") $(fact optimized "$out") $(fact rmmod "$out")" "0 16 0" \
	"  ... hvoctl status works, a pool of 16 is optimized, rmmod works"

# The upgrade, in a 7.3 guest: the host runs dpkg -i while N is loaded.
kernel_vars 7.3
HVO_ROOT=$merged tests/vm/run --kernel 7.3 --no-build --timeout 1500 -- \
	bash tests/guest/jobs/package-upgrade.sh "$job_dir" >"$work/upgrade.out" 2>&1 &
guest=$!
for _ in $(seq 900); do
	[ -e "$job_dir/ready" ] || ! kill -0 $guest 2>/dev/null && break
	sleep 1
done
up=$(in_root "$merged" dpkg -i "/tmp/debs/hvo-shared-dkms_${next}_all.deb" "/tmp/debs/hvoctl_${next}_amd64.deb" 2>&1)
tap $? "dpkg -i version $next while $n is loaded"
grep -E 'Building|rror' <<<"$up" | sed 's/^/#   /'
[ -e "$job_dir/ready" ] || echo "#   the guest never said it was ready"
: >"$job_dir/upgraded"
wait $guest
rc=$?
out=$(cat "$work/upgrade.out")
tap $rc "the upgrade guest finished with a clean kernel log"
[ $rc = 0 ] || tail -n 30 <<<"$out" | sed 's/^/#   /'
grep '^# ' <<<"$out"
status=$(in_root "$merged" dkms status hvo_shared 2>&1)
ok "  ... DKMS built $next for $k73 and $k72, and removed $n" -- \
	test "$(grep -c "^hvo_shared/$next, \($k73\|$k72\), x86_64: installed" <<<"$status") $(grep -c "/$n," <<<"$status")" = "2 0"
sed 's/^/# dkms status: /' <<<"$status"
is "$(fact watch "$out") $(fact loaded "$out")" "0 $n" "  ... a process mapped 16 folios, version $n loaded with adopt=1"
is "$(fact optimized "$out") $(fact adopted "$out")" "24 16" "  ... it optimized the pool's 24 folios, 16 of them in use"
freed=$(fact freed "$out")
is "$(fact saved "$out")" "$freed" "  ... nr_memmap_* fell by vmemmap_pages_freed ($freed)"
is "$(fact upgraded "$out") $(fact still_loaded "$out") $(fact on_disk "$out")" "yes $n $next" \
	"  ... while $n ran, $next was installed on disk"
is "$(fact rmmod "$out") $(fact after_rmmod "$out")" "0 $freed" "  ... rmmod $n leaves its folios optimized"
is "$(fact modprobe "$out") $(fact new "$out")" "0 $next" "  ... modprobe loads $next"
is "$(fact restore "$out")" 0 "  ... hvoctl restore succeeds"
ok "  ... restoring what $n optimized, counted as inherited ($(fact inherited "$out"))" -- \
	test "$(fact inherited "$out")" -ge 16
is "$(fact left "$out") $(fact memmap_delta "$out")" "0 0" "  ... no folio left optimized, nr_memmap_* back at baseline"
is "$(fact verify "$out")" "ok: 0 folios" "  ... verify passes"
is "$(fact data "$out")" 0 "  ... the process's data intact all along"

out=$(in_root "$merged" apt-get purge -y hvo-shared-dkms hvoctl 2>&1)
tap $? "apt purge hvo-shared-dkms hvoctl"
rm -rf "$merged/tmp/debs"
files >"$work/after"
left=$(diff "$work/before" "$work/after")
is "$left" "" "  ... leaves no file behind and takes none away"
[ -z "$left" ] || head -n 20 <<<"$left" | sed 's/^/#   /'
is "$(find "$merged/lib/modules" -name 'hvo_shared.ko*' | wc -l)" 0 "  ... no hvo_shared module under /lib/modules"
ok "  ... DKMS knows nothing of it" -- bash -c '! grep -q hvo_shared <<<"$1"' _ "$(in_root "$merged" dkms status 2>&1)"

umount "$merged"
rc=$?
written=$(find "$HVO_CACHE/root-pkg" -xdev -cnewer "$work/stamp" | head -n 20)
tap $(( rc != 0 || ${#written} > 0 )) "the overlay unmounts; root-pkg itself was never written"
if [ $rc != 0 ] || [ -n "$written" ]; then
	sed 's/^/#   written: /' <<<"$written"
	findmnt -R "$merged" | sed 's/^/#   /'
	fuser -vm "$merged" 2>&1 | sed 's/^/#   /'
fi
tap_done
