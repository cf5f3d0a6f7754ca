#!/bin/sh
# irqlab bench's front: clear errors for bad options, a polite refusal
# without root, and a multi-host plan that is a syntactically valid shell
# script (checked with sh -n; nothing is run, nobody is ssh'd to).
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
grep -q -- "--reps: '0' is not a number in 1..50" "$T/err"; ok $? "names the option and the range"
"$B" bench --napi-thread sideways 2> "$T/err"; grep -q "none, aligned or separate" "$T/err"
ok $? "napi-thread lists its choices"

"$B" bench --dry-run --quick > "$T/dry"; ok $? "local --dry-run exits 0"
grep -q "mode suspend: suspend defer_hard_irqs=100" "$T/dry"; ok $? "local --dry-run shows the modes' knobs"

"$B" bench --server-host root@srv1 --dev eth1 --client-host c1 --client-host c2 --srv-cores 2 \
	--modes adaptive,base,napibusy,busywait,suspend --rates 100000,200000 --dry-run > "$T/plan.sh"
ok $? "multi-host --dry-run exits 0"
sh -n "$T/plan.sh"; ok $? "the plan is valid sh (sh -n)"
is "$(grep -c "'ethtool -C eth1 adaptive-rx o" "$T/plan.sh")" 5 "coalescing set for each of the 5 cases"
"$B" bench --server-host srv1 --dev eth1 --client-host c1 2> "$T/err"; rc=$?
is "$rc" 2 "multi-host without --dry-run refuses"
grep -q "add --dry-run" "$T/err"; ok $? "and says what to do"

if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$B" bench --quick -o "$T/x" 2> "$T/err"; rc=$?
	is "$rc" 1 "without root: exit status 1"
	grep -q "needs root: CAP_SYS_ADMIN" "$T/err"; ok $? "without root: says what it needs"
	[ ! -e "$T/x" ]; ok $? "without root: nothing created"
else
	skip "needs root and setpriv to drop to an unprivileged user"
fi
done_testing
