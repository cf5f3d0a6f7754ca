#!/bin/sh
# make demo: where does receive work run, and what do the interrupt modes do
# there? In under 5 minutes on this machine:
#   1. the headline: the five modes with the receive work on the server's
#      core (threaded NAPI, kthread pinned to the server CPU: the faithful
#      analog of a NIC whose interrupt goes to the server's core), closed loop
#      with 5 repetitions (quick runs are too noisy to rank the polling
#      modes) and an open-loop sweep at 20% and 50% of the smallest maximum;
#   2. the contrast: veth's default, receive work on the sender's core;
#   3. the model: irqlab-sim's counterpart of (1)
#      (sim/examples/singlehost-veth-aligned.conf), closed loop and the same
#      open-loop rates;
# then one report.md of all three (irqlab report), which ranks the modes,
# says which rankings are stable and where model and machine agree.
#   sh scripts/demo.sh [BUILD_DIR]
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: irqlab bench needs root (network namespaces, veth, NAPI settings): run 'sudo make demo'" >&2
	exit 1
fi
for p in irqlab irqlab-kv irqlab-load irqlab-sim; do
	[ -x "$BUILD/$p" ] || { echo "demo: $BUILD/$p is missing (run make)" >&2; exit 1; }
done
OUT=${IRQLAB_DEMO_OUT:-irqlab-results/demo-$(date +%Y%m%d-%H%M%S)}
MODES=base,defer,napibusy,busywait,suspend
# fewer keys than bench's default keep the ten preloads short
COMMON="--modes $MODES --records 50000 --noise-retries 0"
start=$(date +%s)
mkdir -p "$OUT" || exit 1

echo "demo 1/3: receive work on the server's core (--napi-thread aligned), about 3 minutes"
"$BUILD/irqlab" bench --napi-thread aligned $COMMON --reps 5 --time 1.5 --warmup 0.5 \
	--points 0.2,0.5 -o "$OUT/aligned" > "$OUT/aligned.txt" || { cat "$OUT/aligned.txt"; exit 1; }
echo "demo 2/3: contrast, receive work on the sender's core (--napi-thread none), about 40 s"
"$BUILD/irqlab" bench --napi-thread none $COMMON --reps 3 --time 1 --warmup 0.3 \
	--points none -o "$OUT/none" > "$OUT/none.txt" || { cat "$OUT/none.txt"; exit 1; }

echo "demo 3/3: the model (irqlab-sim, the aligned setup)"
CONF=$SRC/sim/examples/singlehost-veth-aligned.conf
SIMMODES="-m base -m defer -m napibusy -m busywait -m suspend"
# the open-loop rates the machine was measured at
RATES=$(grep -o '"target_qps": [0-9.]*' "$OUT/aligned/results.json" |
	awk '$2 > 0 { print $2 }' | sort -un | paste -sd, -)
"$BUILD/irqlab-sim" --config "$CONF" $SIMMODES -o "$OUT/sim" > /dev/null 2>&1 &&
	"$BUILD/irqlab-sim" --config "$CONF" $SIMMODES -q "$RATES" -o "$OUT/sim-open" \
		> /dev/null 2>&1 || { echo "demo: irqlab-sim failed" >&2; exit 1; }

"$BUILD/irqlab" report -o "$OUT" --title "irqlab demo: where does receive work run?" \
	--intro "$SRC/scripts/demo-intro.md" \
	"$OUT/aligned/results.json" "$OUT/sim/results.json" "$OUT/sim-open/results.json" \
	--tag none "$OUT/none/results.json" > /dev/null || exit 1

echo
echo "== receive work on the server's core (aligned): closed loop, 5 runs per mode"
sed -n "/^closed-loop QPS, median/,/^  suspend/p; /^  \* a run was flagged/p" "$OUT/aligned.txt"
echo "== contrast: receive work on the sender's core (none), 3 runs per mode"
sed -n "/^closed-loop QPS, median/,/^  suspend/p; /^  \* a run was flagged/p" "$OUT/none.txt"
echo "== ranking (> stable in every run, ~ not separable) and the model"
grep -E '^(### |Order: |Of the |The sizes|[0-9]+ flagged run|`\*`)' "$OUT/report.md" | sed 's/  $//'
echo
echo "demo: $(($(date +%s) - start)) s; open $OUT/report.md (plots: $OUT/latency-p99.png, $OUT/cpu.png)"
