#!/bin/sh
# irqlab bench's front: clear errors for bad options, a polite refusal
# without root, and a multi-host plan that is a syntactically valid shell
# script (checked with sh -n; nothing is run, nobody is ssh'd to).
# `irqlab report`: plots and report.md from results.json files, a measured
# and a simulated one compared on the same plots.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
B=$IRQLAB_BUILD/irqlab
[ -x "$B" ] || skip_all "irqlab not built"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$B" bench --help > "$T/help"; ok $? "--help exits 0"
for o in --out --server --modes --napi-thread --quick --full --time --points --dry-run --server-host; do
	grep -q -- "$o" "$T/help"; ok $? "--help documents $o"
done

"$B" bench --reps 0 2> "$T/err"; rc=$?
is "$rc" 2 "bad value: exit status 2"
is "$(wc -l < "$T/err")" 1 "one line"
grep -q -- "--reps: '0' is not an integer in 1-50" "$T/err"; ok $? "names the option and the range"
"$B" bench --napi-thread sideways 2> "$T/err"; grep -q "none, aligned or separate" "$T/err"
ok $? "napi-thread lists its choices"

"$B" bench --dry-run --quick > "$T/dry"; ok $? "local --dry-run exits 0"
grep -q "mode suspend: suspend defer_hard_irqs=100" "$T/dry"; ok $? "local --dry-run shows the modes' knobs"

"$B" bench --server-host root@srv1 --dev eth1 --client-host c1 --client-host c2 --srv-cores 2 \
	--modes adaptive,base,napibusy,busywait,suspend --rates 100000,200000 --dry-run > "$T/plan.sh"
ok $? "multi-host --dry-run exits 0"
sh -n "$T/plan.sh"; ok $? "the plan is valid sh (sh -n)"
is "$(grep -c "'ethtool -C eth1 adaptive-rx o" "$T/plan.sh")" 5 "coalescing set for each of the 5 cases"
"$B" bench --server-host srv1.invalid --dev eth1 --client-host c1.invalid -o "$T/mh" 2> "$T/err"; rc=$?
is "$rc" 1 "multi-host to hosts that do not exist fails"
grep -q "^irqlab bench: srv1.invalid: ssh: Could not resolve hostname srv1.invalid" "$T/err"
ok $? "one line names the host and ssh's reason"

if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$B" bench --quick -o "$T/x" 2> "$T/err"; rc=$?
	is "$rc" 1 "without root: exit status 1"
	grep -q "needs root: CAP_SYS_ADMIN" "$T/err"; ok $? "without root: says what it needs"
	[ ! -e "$T/x" ]; ok $? "without root: nothing created"
else
	skip "needs root and setpriv to drop to an unprivileged user"
fi
# irqlab report: a hand-written measured results.json (the schema's fields
# that matter; the rest are unknown) and, if built, an irqlab-sim one
"$B" report --help > "$T/rhelp"; ok $? "report --help exits 0"
grep -q -- "--out" "$T/rhelp"; ok $? "report --help documents --out"
"$B" report 2> "$T/err"; is $? 2 "report without a file: exit 2"
grep -q "no RESULTS.json given" "$T/err"; ok $? "  says what is missing"
"$B" report -o "$T/r0" /nonexistent.json 2> "$T/err"; is $? 1 "report of a missing file: exit 1"
grep -q "cannot read /nonexistent.json" "$T/err"; ok $? "  names the file"
printf '[\n {"mode": "base",\n  "qps": oops}\n]\n' > "$T/bad.json"
"$B" report -o "$T/r0" "$T/bad.json" 2> "$T/err"; is $? 1 "report of broken JSON: exit 1"
grep -q "bad.json: line 3, column 13: invalid token" "$T/err"; ok $? "  names file and line"
row() { # mode rep target qps p95 p99 idle
	printf '{"mode": "%s", "kind": "open", "source": "measured", "server": "irqlab-kv", "rep": %s, "target_qps": %s, "qps": %s, "p50_us": 30, "p95_us": %s, "p99_us": %s, "cpu_idle": %s, "flagged": 0, "note": ""}' "$@"
}
{ echo "["; row base 0 100000 99000 60 80 50; echo ","; row base 1 100000 98000 62 90 48; echo ","
  row base 0 200000 195000 70 120 30; echo ","; row suspend 0 100000 99500 55 70 40; echo ","
  row suspend 0 200000 199000 58 75 20; echo "]"; } > "$T/meas.json"
# The ranking leaves flagged runs out when two or more unflagged remain: a
# disturbed run (60k) would otherwise make suspend and base inseparable;
# a mode with fewer than two unflagged runs is ranked but starred.
crow() { # mode rep qps flagged
	printf '{"mode": "%s", "kind": "closed", "source": "measured", "server": "irqlab-kv", "rep": %s, "target_qps": 0, "qps": %s, "p50_us": 30, "p95_us": 60, "p99_us": 80, "cpu_idle": 0, "flagged": %s, "note": "%s"}' "$@"
}
{ echo "["; crow base 0 100000 0 ""; echo ","; crow base 1 101000 0 ""; echo ","
  crow base 2 99000 0 ""; echo ","; crow suspend 0 140000 0 ""; echo ","
  crow suspend 1 150000 0 ""; echo ","; crow suspend 2 60000 1 "noise 90% (top make(1))"; echo ","
  crow defer 0 30000 1 "noise 50% (top cc(2))"; echo ","; crow defer 1 31000 1 "noise 40% (top cc(2))"; echo "]"; } > "$T/flag.json"
"$B" report -o "$T/flag" "$T/flag.json" > /dev/null 2> "$T/err"
ok $? "report of closed-loop rows with flagged runs: exit 0"
grep -q '^Order: suspend > base > defer\*' "$T/flag/report.md"
ok $? "  ranking over unflagged runs: suspend > base; defer starred"
grep -q '^| 1 | suspend | 145000 | 140000..150000 | 2 (+1 flagged) |' "$T/flag/report.md"
ok $? "  suspend's row: median of the 2 unflagged runs, the flagged one counted aside"
grep -q '^| 3 | defer | 30500 | 30000..31000 | 2 (flagged) |' "$T/flag/report.md"
ok $? "  defer's row: both runs flagged, kept and marked"
grep -q '^1 flagged run(s) left out of the ranking' "$T/flag/report.md"
ok $? "  report says how many runs were left out"

SIM=$IRQLAB_BUILD/irqlab-sim
if [ -x "$SIM" ]; then
	"$SIM" -m base -m suspend -q 100000,200000 --time 0.005 --warmup 0.001 -o "$T/sim" \
		> /dev/null 2>&1
	ok $? "irqlab-sim --out for the comparison"
	"$B" report -o "$T/cmp" "$T/meas.json" "$T/sim/results.json" > "$T/out" 2> "$T/err"
	ok $? "report of a measured and a simulated file: exit 0"
	grep -q "9 rows" "$T/out"; ok $? "  9 rows read (5 + 4)"
	if command -v perl >/dev/null; then
		perl "$IRQLAB_SRC/bench/schema-check.pl" "$IRQLAB_SRC/docs/result-schema.md" \
			"$T/cmp/results.json" > /dev/null
		ok $? "  merged results.json valid against docs/result-schema.md"
	else
		skip "perl missing"
	fi
	grep -q "^| base (measured) | 100000 | 98500 | 98000..99000 |" "$T/cmp/report.md"
	ok $? "  report.md: measured median over 2 repetitions"
	grep -q "^| suspend (simulated) | 200000 |" "$T/cmp/report.md"
	ok $? "  report.md: simulated rows"
	grep -q "compare the shapes" "$T/cmp/report.md"; ok $? "  report.md: the measured vs simulated caveat"
	if command -v gnuplot >/dev/null; then
		for p in latency-p99 latency-p95 cpu; do
			is "$(head -c 8 "$T/cmp/$p.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a \
				"  $p.png has the PNG signature"
		done
		gnuplot "$T/cmp/plots.gp" 2> /dev/null; ok $? "  gnuplot exits 0 on plots.gp"
		is "$(grep -c "title 'base (measured)'" "$T/cmp/plots.gp")" 3 "  legend: base (measured) in 3 plots"
		is "$(grep -c "lt 1 dt 2 .*title 'base (simulated)'" "$T/cmp/plots.gp")" 3 \
			"  legend: base (simulated), same colour, dashed"
		grep -q "against load (measured and simulated)" "$T/cmp/plots.gp"; ok $? "  titles name both sources"
	else
		skip "gnuplot not installed: no plots to check"
	fi
else
	skip "irqlab-sim not built: no measured vs simulated comparison"
fi
done_testing
