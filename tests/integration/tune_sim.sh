#!/bin/sh
# irqlab tune on the simulator: a setup whose optimum is known by
# construction (busy-wait modes spin every core, so at a light load with a
# loose target base needs the least CPU), --candidates restricts the
# search, an infeasible target names the closest candidate, --dry-run
# plans, the outputs (tune.json in the result schema, report.md, the plot),
# and bad options get one line naming the option.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
B=$IRQLAB_BUILD/irqlab
[ -x "$B" ] || skip_all "irqlab not built"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
CONF=$IRQLAB_SRC/sim/examples/cover-suspend20-max.conf
# short simulated runs: the search's logic, not the model's precision
FAST="--sim $CONF --time 0.05 --threads 2 --budget 2m"

printf '# known optimum: base\nbusywait\nbase\nbusywait,busy_poll_usecs=64\n' > "$T/cands"
timeout 300 "$B" tune $FAST --qps 50000 --slo 'p99<=5ms' --candidates "$T/cands" \
	-o "$T/out" > "$T/stdout" 2> "$T/stderr"; rc=$?
is "$rc" 0 "known optimum: exit 0"
grep -q "recommendation (a winner at 95% confidence)" "$T/stdout"; ok $? "a winner is declared"
grep -A1 "^recommendation" "$T/stdout" | grep -q "c001  --mode 'base'"; ok $? "it is base (c001)"
grep -q "sudo irqlab napi set --dev DEV --defer-hard-irqs 0" "$T/stdout"; ok $? "the napi set command"
grep -q "IRQLAB_MODE=base IRQLAB_DEV=DEV LD_PRELOAD=" "$T/stdout"; ok $? "the preload command"
grep -q "runner-up:" "$T/stdout"; ok $? "a runner-up"
grep -q "need more CPU" "$T/stdout"; ok $? "why the others lost"
for f in tune.json candidates.tsv report.md tune.gp tune.png; do
	[ -s "$T/out/$f" ]; ok $? "wrote $f"
done
perl "$IRQLAB_SRC/bench/schema-check.pl" "$IRQLAB_SRC/docs/result-schema.md" "$T/out/tune.json" \
	> /dev/null 2> "$T/schema.err"
ok $? "tune.json follows docs/result-schema.md $(head -c 200 "$T/schema.err")"
modes=$(grep -o '"mode": *"[^"]*"' "$T/out/tune.json" | sort -u | tr -d ' "' | tr '\n' ' ')
is "$modes" "mode:c000 mode:c001 mode:c002 " "--candidates: only the three listed were run"
grep -q "Pareto front" "$T/out/report.md"; ok $? "report.md explains the plot"

timeout 300 "$B" tune $FAST --qps 50000 --slo 'p99<=5ms' --candidates "$T/cands" --exhaustive \
	-o "$T/exh" > "$T/stdout" 2> "$T/stderr"; rc=$?
is "$rc" 0 "--exhaustive: exit 0"
grep -q "searched 3 candidates: exhaustive (every one at full length), 9 runs" "$T/stdout"
ok $? "--exhaustive: 3 runs of each of the 3 ($(grep searched "$T/stdout"))"
grep -A1 "^recommendation" "$T/stdout" | grep -q "c001  --mode 'base'"; ok $? "--exhaustive: base too"

timeout 300 "$B" tune $FAST --qps 50000 --slo 'p99<=1us' --candidates "$T/cands" \
	-o "$T/inf" > "$T/stdout" 2> "$T/stderr"; rc=$?
is "$rc" 1 "infeasible target: exit 1"
grep -q "infeasible: no candidate keeps p99 <= 1 us" "$T/stdout"; ok $? "says infeasible"
grep -Eq "^closest: c00[0-2] [a-z,_=0-9]+: p99 [0-9]+us" "$T/stdout"; ok $? "names the closest and its latency"
grep -q "^next: the highest rate that keeps the target: irqlab tune --max-qps --slo 'p99<=1us'" \
	"$T/stdout"; ok $? "says what to try next (--max-qps)"
grep -A4 "^apply the closest anyway" "$T/stdout" | grep -q "irqlab-kv --mode"
ok $? "gives the commands that apply the closest"

"$B" tune --sim "$CONF" --qps 600000 --slo 'p99<=250us' --dry-run > "$T/dry"; rc=$?
is "$rc" 0 "--dry-run: exit 0"
grep -q "240 candidates" "$T/dry"; ok $? "--dry-run: the default space (240 candidates)"
grep -q "estimated duration" "$T/dry"; ok $? "--dry-run: the duration"
"$B" tune --sim "$CONF" --qps 600000 --slo 'p99<=250us' --space mode=suspend --space \
	'gro_flush_timeout=20us..50us' --dry-run > "$T/dry"
grep -q " 48 candidates" "$T/dry"; ok $? "--space narrows (suspend with 2 gro values x 2 defer x 3 suspend x 2 budget x 2 NIC: 48)"

"$B" tune --sim "$CONF" --qps 600000 --slo 'p99<=250us' --exhaustive --dry-run > "$T/dry"
grep -q "exhaustive: 240 candidates x 3 runs of 0.2 s, no halving" "$T/dry"; ok $? "--exhaustive --dry-run: the whole grid at full length"

# the recommendation table: one cell (tune/table.sh), its row
IRQLAB_BUILD=$IRQLAB_BUILD timeout 300 sh "$IRQLAB_SRC/tune/table.sh" -o "$T/table" "$CONF" 50000 5ms \
	--candidates "$T/cands" --time 0.05 --threads 2 --budget 2m > "$T/table.md" 2> "$T/table.err"
grep -q "^| 50K | 5ms | winner | \`base\` | [0-9.]* \[[0-9.]*, [0-9.]*\] | [0-9.]* \[[0-9.]*, [0-9.]*\] | [0-9]*, [0-9.]* |$" "$T/table.md"
ok $? "tune/table.sh: the cell's row ($(tail -n 1 "$T/table.md"))"

bad() {	# bad "what" "expected text" args...
	what=$1; want=$2; shift 2
	"$B" tune "$@" > /dev/null 2> "$T/err"; rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q -- "$want" "$T/err"
	ok $? "$what: exit 2, one line naming it ($(cat "$T/err"))"
}
bad "no objective" "--qps N or --max-qps" --sim "$CONF" --slo 'p99<=1ms'
bad "no target" "--slo" --sim "$CONF" --qps 1000
bad "bad percentile" "--slo: 'p98<=1ms'" --sim "$CONF" --qps 1000 --slo 'p98<=1ms'
bad "CPU cap out of range" "--cpu: '150' is not a number in 1-100" --sim "$CONF" --qps 1000 \
	--slo 'p99<=1ms' '--cpu<=150'
bad "bad budget" "--budget: '0s' is not a time" --sim "$CONF" --qps 1000 --slo 'p99<=1ms' --budget 0s
bad "unknown knob" "unknown knob 'gro'" --sim "$CONF" --qps 1000 --slo 'p99<=1ms' --space gro=1
bad "--measure alone" "--measure: only with --sim" --qps 1000 --slo 'p99<=1ms' --measure
bad "--exhaustive with --max-qps" "--exhaustive: only with --qps" --sim "$CONF" --max-qps \
	--slo 'p99<=1ms' --exhaustive
bad "bad config" "--sim" --sim /nonexistent.conf --qps 1000 --slo 'p99<=1ms'
"$B" tune --help | grep -q -- "--candidates FILE"; ok $? "--help documents --candidates"
done_testing
