#!/bin/sh
# make demo: the quick end-to-end comparison of the five interrupt modes on
# this machine (irqlab bench --quick), in under 5 minutes.
#   sh scripts/demo.sh [BUILD_DIR]
BUILD=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: irqlab bench needs root (network namespaces, veth, NAPI settings): run 'sudo make demo'" >&2
	exit 1
fi
for p in irqlab irqlab-kv irqlab-load; do
	[ -x "$BUILD/$p" ] || { echo "demo: $BUILD/$p is missing (run make)" >&2; exit 1; }
done
OUT=${IRQLAB_DEMO_OUT:-irqlab-results/demo-$(date +%Y%m%d-%H%M%S)}
echo "demo: irqlab bench --quick -o $OUT (about 3 minutes)"
"$BUILD/irqlab" bench --quick -o "$OUT" || exit $?
echo "demo: open $OUT/report.md (plots: $OUT/latency-p99.png, $OUT/cpu.png)"
