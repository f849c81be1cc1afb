#!/bin/bash
# IBT safety of the built module, checked on the .ko (docs/reliability.md).
# On a CPU with Indirect Branch Tracking the kernel seals at boot the
# ENDBR of every function whose address it never takes, and an indirect
# call into a sealed function is a control-protection fault. Exported
# functions are never sealed (the export takes their address). So the
# module must take no address of, and make no indirect call into, a
# non-exported kernel function:
#  - every undefined symbol of the .ko is in the kernel's Module.symvers;
#  - every relocation from a non-code section (an address stored in data)
#    to an undefined symbol names an exported symbol, and never one of
#    the names the module resolves at run time;
#  - the names it resolves at run time (src/symbols.c, wanted[]) are all
#    data objects in the running kernel's /proc/kallsyms (d D b B r R).
# TCG has no IBT, so no guest run could show the fault; this can.
#
# To see the checks fail: IBT_EXTRA_WANTED="flush_tlb_all" adds a name to
# the run-time list, IBT_UNEXPORT="seq_read" drops an export from the copy
# of Module.symvers the checks use.
# beside: guests (tests/check runs it beside the suite's guests; its own
# guests are small)
export HVO_VM_MEM=${HVO_VM_MEM:-2048}
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"
cd "$REPO" || exit 1

plan 5
kernel_vars 7.3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# This tree's module, as DKMS installed it. tests/check has installed it
# before (01-build): reinstalling would take it from under the suite's
# guests, which run beside this test.
version=$(make -s --no-print-directory version)
installed=$(xz -dc "$ROOT/lib/modules/$KVER/updates/dkms/hvo_shared.ko.xz" 2>/dev/null |
	tr '\0' '\n' | sed -n 's/^version=//p' | head -n 1)
if [ "$installed" = "$version" ]; then
	tap 0 "this tree's module is installed for $KVER ($version)"
else
	tests/vm/install-module 7.3
	tap $? "dkms install for $KVER (this tree's module)"
fi
ko=$work/hvo_shared.ko
xz -dc "$ROOT/lib/modules/$KVER/updates/dkms/hvo_shared.ko.xz" >"$ko" 2>/dev/null ||
	cp "$ROOT/lib/modules/$KVER/updates/dkms/hvo_shared.ko" "$ko"

# Exported symbols, less any the caller asked to pretend are not.
awk '{ print $2 }' "$ROOT/usr/src/linux-headers-$KVER/Module.symvers" |
	grep -vxF -e "${IBT_UNEXPORT:-/}" | sort -u >"$work/exported"
nm -u "$ko" | awk '{ print $2 }' | sort -u >"$work/undefined"
# The run-time names, from the source of the table itself.
sed -n '/wanted\[\] = {/,/};/p' src/symbols.c | grep -o '{ "[A-Za-z0-9_]*"' |
	tr -d '{" ' >"$work/wanted"
for s in ${IBT_EXTRA_WANTED:-}; do echo "$s" >>"$work/wanted"; done

missing=$(comm -23 "$work/undefined" "$work/exported")
is "$missing" "" "all $(wc -l <"$work/undefined") undefined symbols of the .ko are exported (Module.symvers)"

# Sections that hold code: objdump -h gives each section's flags on the
# line after its name.
objdump -h "$ko" | awk '/^ *[0-9]+ / { name = $2; next }
	name != "" && /CODE/ { print name } { name = "" }' >"$work/code"
# section<TAB>symbol for every relocation from a non-code section to an
# undefined symbol.
readelf -rW "$ko" | awk -v code="$work/code" -v undef="$work/undefined" '
	BEGIN { while ((getline l < code) > 0) c[l] = 1
		while ((getline l < undef) > 0) u[l] = 1 }
	/^Relocation section/ { s = $3; gsub(/\x27/, "", s); sub(/^\.rela/, "", s); next }
	NF >= 5 && $1 ~ /^[0-9a-f]+$/ && !(s in c) && ($5 in u) { print s "\t" $5 }
' | sort -u >"$work/taken"
bad=$(cut -f2 "$work/taken" | sort -u | comm -23 - "$work/exported")
bad+=$(cut -f2 "$work/taken" | grep -xF -f "$work/wanted")
diag "addresses stored in data: $(cut -f2 "$work/taken" | sort -u | wc -l) undefined symbols from $(cut -f1 "$work/taken" | sort -u | tr '\n' ' ')"
is "$bad" "" "every address the .ko stores in data names an exported symbol, none resolved at run time"

n=$(wc -l <"$work/wanted")
ok "src/symbols.c resolves $n names at run time: $(tr '\n' ' ' <"$work/wanted")" -- test "$n" -ge 1

# Their types and addresses in the running kernel (the System.map Debian
# ships is a placeholder; the vmlinux in the headers carries BTF only).
# Debian's 7.3.4 lists the symbols of .data (jiffies, init_task, init_mm,
# hugetlb_lock) as T: kallsyms keeps the type nm gave them at link time,
# from the section's flags. So a data object is a d/D/b/B/r/R symbol, or
# a T/t one inside [_sdata, _edata); and never inside the kernel's text,
# [_stext, _etext) or [_sinittext, _einittext), where sealing applies.
bounds="_stext _etext _sinittext _einittext _sdata _edata"
syms=$(tests/vm/run --kernel 7.3 --no-build -- \
	awk -v names="$(tr '\n' ' ' <"$work/wanted") $bounds" \
	'BEGIN { n = split(names, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
	 NF == 3 && ($3 in w) { print $3, $2, $1 }' /proc/kallsyms 2>/dev/null |
	grep -E '^[A-Za-z0-9_]+ [A-Za-z] [0-9a-f]{16}$')
addr() { awk -v n="$1" '$1 == n { print "16#" $3; exit }' <<<"$syms"; }
in_range() { (( $1 >= $(addr "$2") && $1 < $(addr "$3") )); }

# is_data NAME: every kallsyms entry of NAME is a data object.
is_data() {
	local name type a seen=0
	while read -r name type a; do
		seen=1
		a=$((16#$a))
		in_range "$a" _stext _etext || in_range "$a" _sinittext _einittext && return 1
		[[ $type == [dDbBrR] ]] && continue
		[[ $type == [tT] ]] && in_range "$a" _sdata _edata && continue
		return 1
	done < <(awk -v n="$1" '$1 == n' <<<"$syms")
	[ "$seen" = 1 ]
}

notdata=$(for b in $bounds; do [ -n "$(addr "$b")" ] || echo "$b:absent"; done
	while read -r name; do
		is_data "$name" || echo "$name:$(awk -v n="$name" '$1 == n { printf "%s@%s ", $2, $3 }' <<<"$syms")"
	done <"$work/wanted")
diag "kallsyms: $(grep -vwE "${bounds// /|}" <<<"$syms" | cut -d' ' -f1,2 | tr '\n' ' ')"
is "$notdata" "" "every name resolved at run time is a data object, outside the kernel's text"
tap_done
