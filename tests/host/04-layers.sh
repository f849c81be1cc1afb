#!/bin/bash
# The module's layers point one way (docs/design.md, "Layout"): every file
# includes headers only of layers below its own (or of its own layer), and
# every function or variable of the module that an object file uses is
# defined in a layer strictly below it, as nm shows on a build of this
# tree. Every source file and header has its place in the table below,
# which docs/design.md draws.
#
# It also shows it can fail: LAYERS_EXTRA_CALL="hvo_pool_takeover" makes
# the engine's core (engine.c) call up into the pool actions in a copy of
# the tree, and that run must fail by name.
# beside: guests (tests/check runs it beside the suite's guests: it builds
# copies of the tree, and the guests need none of it)
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"
cd "$REPO" || exit 1

# LAYER FILES..., bottom first.
layers=(
	"0 src/kcheck.c src/symbols.c include/hvo_kernel.h"
	"1 src/state.c include/hvo_state.h src/policy.c include/hvo_policy.h src/inject.c include/hvo_inject.h"
	"2 src/remap.c src/hotremove.c src/tails.c include/hvo_remap.h include/hvo_fill.h src/trace.c src/trace.h"
	"3 src/engine.c src/engine.h include/hvo_engine.h"
	"4 src/optimize.c src/restore.c"
	"5 src/pool.c include/hvo_pool.h"
	"6 src/actions.c include/hvo_actions.h src/hooks.c include/hvo_hooks.h"
	"7 src/control.c src/stats.c src/verify.c include/hvo_control.h"
	"8 src/main.c"
)
declare -A layer
for l in "${layers[@]}"; do
	set -- $l
	n=$1
	shift
	for f; do layer[$f]=$n; done
done

plan $([ -z "${LAYERS_EXTRA_CALL:-}" ] && echo 6 || echo 5)

unplaced=
for f in src/*.c src/*.h include/*.h; do
	[ -n "${layer[$f]:-}" ] || unplaced+=" $f"
done
is "${unplaced:-none}" none "every source file and header has a layer"

# A quoted include names a header in include/ or, for trace.h, in src/.
bad=
for f in "${!layer[@]}"; do
	[ -f "$f" ] || { bad+=" $f:missing"; continue; }
	for h in $(sed -n 's/^#include "\(.*\)"/\1/p' "$f"); do
		if [ -f "include/$h" ]; then h=include/$h; else h=src/$h; fi
		[ "${layer[$h]:-99}" -le "${layer[$f]}" ] || bad+=" $f->$h"
	done
done
is "${bad:-none}" none "every file includes headers of its own layer or below"

# Build a copy in the 7.3 build root; the objects say who calls whom.
# The failure mode's run reuses that build (LAYERS_BUILD): only engine.c
# changes, and only engine.o is built again.
kernel_vars 7.3
build=${LAYERS_BUILD:-/tmp/hvo-layers}
if [ -z "${LAYERS_BUILD:-}" ]; then
	rm -rf "$ROOT$build"
	mkdir -p "$ROOT$build"
	cp -r src include Kbuild Makefile VERSION "$ROOT$build/"
fi
if [ -n "${LAYERS_EXTRA_CALL:-}" ]; then
	printf '\nvoid %s(void);\nvoid hvo_layers_probe(void)\n{\n\t%s();\n}\n' \
		"$LAYERS_EXTRA_CALL" "$LAYERS_EXTRA_CALL" >>"$ROOT$build/src/engine.c"
fi
log=$(in_root "$ROOT" make -C "/lib/modules/$KVER/build" M=$build modules 2>&1)
tap $? "a copy of the tree builds for $KVER"
[ -f "$ROOT$build/hvo_shared.ko" ] || sed 's/^/#   /' <<<"$log" | tail -n 20

declare -A defined_in
for o in "$ROOT$build"/src/*.o; do
	f=src/$(basename "$o" .o).c
	for s in $(nm --defined-only "$o" | awk '$3 ~ /^hvo_/ {print $3}'); do
		defined_in[$s]=$f
	done
done
calls= up=
for o in "$ROOT$build"/src/*.o; do
	f=src/$(basename "$o" .o).c
	[ "$f" = src/hvo_shared.mod.c ] && continue
	for s in $(nm -u "$o" | awk '$2 ~ /^hvo_/ {print $2}'); do
		d=${defined_in[$s]:-?}
		calls+="$f->$d "
		[ "${layer[$d]:-99}" -lt "${layer[$f]:-0}" ] || up+=" $f->$d($s)"
	done
done
ok "objects use module symbols across files (the check sees calls)" -- \
	test -n "$calls"
is "${up:-none}" none "every module symbol a file uses is defined in a layer below it"
echo "# calls: $(tr ' ' '\n' <<<"$calls" | sort -u | tr '\n' ' ')"

# The check can fail: the engine's core made to call up into the pool
# actions, in the copy, is caught by name.
if [ -z "${LAYERS_EXTRA_CALL:-}" ]; then
	out=$(LAYERS_EXTRA_CALL=hvo_pool_takeover LAYERS_BUILD=$build bash "$0" 2>&1)
	ok "a call up from engine.c into actions.c (LAYERS_EXTRA_CALL) fails the check" -- \
		bash -c 'grep -q "^not ok 5 " <<<"$1" &&
			grep -qF "got:  '"'"' src/engine.c->src/actions.c(hvo_pool_takeover)'"'"'" <<<"$1"' _ "$out"
	rm -rf "${ROOT:?}$build"
fi
tap_done
