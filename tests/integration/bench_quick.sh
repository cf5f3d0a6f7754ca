#!/bin/sh
# irqlab bench end to end, reduced: all five modes, tiny runs, one
# repetition, two sweep points. Asserts structure and sanity, not speed:
# a row per mode, busy polling where the mode polls and none in base, valid
# PNGs from gnuplot, JSON valid against docs/result-schema.md, nothing left
# behind (namespaces, processes) after a normal end and after Ctrl-C.
. "$IRQLAB_SRC/tests/lib.sh"
need_root
need_cmd ip
need_cmd ethtool
need_cmd gnuplot
need_cmd perl
[ -x "$IRQLAB_BUILD/irqlab-kv" ] || skip_all "irqlab-kv not built"
[ -x "$IRQLAB_BUILD/irqlab-load" ] || skip_all "irqlab-load not built"
[ -x "$IRQLAB_BUILD/irqlab" ] || skip_all "irqlab not built"
kmaj=$(uname -r | cut -d. -f1); kmin=$(uname -r | cut -d. -f2)
[ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "${kmin%%[!0-9]*}" -ge 13 ]; } ||
	skip_all "needs Linux 6.13 (irq_suspend_timeout, per-NAPI settings)"

T=$(mktemp -d /tmp/irqlab-bench-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
OUT=$T/out
MODES="base defer napibusy busywait suspend"

timeout -s INT 300 "$IRQLAB_BUILD/irqlab" bench --quick --time 0.4 --warmup 0.2 --reps 1 \
	--points 0.3,0.6 --noise-retries 0 -o "$OUT" >"$T/stdout" 2>"$T/stderr"
rc=$?
is "$rc" 0 "bench --quick exits 0"
[ "$rc" -eq 0 ] || { sed 's/^/# /' "$T/stderr" | tail -5; }

# the terminal table: a closed-loop row per mode
for m in $MODES; do
	grep -Eq "^$m +closed +max " "$T/stdout"; ok $? "table has a closed-loop row for $m"
done
grep -q "Open loop" "$T/stdout"; ok $? "table has the open-loop part"

perl "$IRQLAB_SRC/bench/schema-check.pl" "$IRQLAB_SRC/docs/result-schema.md" "$OUT/results.json" >/dev/null 2>"$T/schema.err"
ok $? "results.json validates against docs/result-schema.md"
[ -s "$T/schema.err" ] && sed 's/^/# /' "$T/schema.err" | head -5

# per-mode sanity from the JSON rows (JSON::PP is core perl)
cat > "$T/rows.pl" <<'PERL'
use JSON::PP;
local $/; my $r = decode_json(<STDIN>);
my ($mode, $kind, $field) = @ARGV;
for (@$r) {
	next unless $_->{mode} eq $mode && $_->{kind} eq $kind;
	print defined $_->{$field} ? $_->{$field} : "null", "\n";
}
PERL
rows() { perl "$T/rows.pl" "$1" "$2" "$3" < "$OUT/results.json"; }
for m in $MODES; do
	n=$(rows $m closed qps | wc -l); is "$n" 1 "$m: one closed-loop row"
	n=$(rows $m open qps | wc -l); is "$n" 2 "$m: two open-loop rows"
	q=$(rows $m closed qps | head -1)
	perl -e "exit !($q > 1000)"; ok $? "$m: closed loop reached > 1000 QPS ($q)"
	bp=$(rows $m closed busy_polled | head -1)
	case $m in
	base|defer) is "$bp" 0 "$m: no busy-polled packets" ;;
	*) perl -e "exit !($bp > 0)"; ok $? "$m: busy-polled packets > 0 ($bp)" ;;
	esac
	idle=$(rows $m closed cpu_idle | head -1)
	perl -e "exit !($idle >= 0 && $idle <= 100)"; ok $? "$m: idle share in 0..100 ($idle)"
done
ipc=$(rows base closed ipc | head -1)
if grep -q "not available" "$T/stderr"; then
	is "$ipc" null "no hardware counters here: IPC is null, not 0"
else
	perl -e "exit !('$ipc' ne 'null' && $ipc > 0)"; ok $? "IPC measured ($ipc)"
fi

for p in latency-p99 latency-p95 cpu; do
	sig=$(head -c 8 "$OUT/$p.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
	is "$sig" 89504e470d0a1a0a "$p.png has the PNG signature"
done
gnuplot "$OUT/plots.gp" 2>/dev/null; ok $? "gnuplot exits 0 on the written script"
grep -q '!\[p99 latency\](latency-p99.png)' "$OUT/report.md"; ok $? "report.md includes the plots"
head -1 "$OUT/results.csv" | grep -q '^mode,kind,source,server,rep,'; ok $? "results.csv has the header"

# nothing left behind
ns=$(sed -n 's/^ip netns add \(irqlab-[sc][0-9]*\) .*/\1/p' "$OUT/plan.txt")
[ -n "$ns" ]; ok $? "plan.txt records the namespaces"
left=0; for n in $ns; do ip netns list | grep -qw "$n" && left=1; done
is "$left" 0 "namespaces removed"
left=0
for pid in $(sed -n 's/^# server for mode .*: pid \([0-9]*\).*/\1/p' "$OUT/plan.txt"); do
	grep -qs irqlab-kv "/proc/$pid/cmdline" && left=1
done
is "$left" 0 "every server process stopped"

# threaded NAPI aligned: the kthread exists, is pinned to the server CPU,
# and its receive work is counted on the server CPU
"$IRQLAB_BUILD/irqlab" bench --quick --time 0.4 --warmup 0.1 --reps 1 --points none \
	--modes base --napi-thread aligned -o "$T/al" >/dev/null 2>"$T/al.err"
ok $? "--napi-thread aligned runs"
grep -q '^# NAPI kthread [0-9]* pinned to CPU 1' "$T/al/plan.txt"; ok $? "NAPI kthread pinned to the server CPU"
q=$(perl "$T/rows.pl" base closed qps < "$T/al/results.json")
perl -e "exit !($q > 1000)"; ok $? "aligned: closed loop reached > 1000 QPS ($q)"

# Debian's memcached under the preload shim, same modes
if [ -x /usr/bin/memcached ] && [ -e "$IRQLAB_BUILD/libirqlab-preload.so" ]; then
	"$IRQLAB_BUILD/irqlab" bench --server memcached --quick --time 0.4 --warmup 0.1 --reps 1 \
		--points none --modes base,busywait -o "$T/mc" >/dev/null 2>"$T/mc.err"
	rc=$?; ok $rc "--server memcached runs"
	[ $rc -eq 0 ] || sed 's/^/# /' "$T/mc.err" | tail -3
	bp=$(perl "$T/rows.pl" base closed busy_polled < "$T/mc/results.json")
	is "$bp" 0 "memcached base: no busy-polled packets"
	bp=$(perl "$T/rows.pl" busywait closed busy_polled < "$T/mc/results.json")
	perl -e "exit !($bp > 0)"; ok $? "memcached busywait (shim): busy-polled packets > 0 ($bp)"
	grep -q '"server": "memcached"' "$T/mc/results.json"; ok $? "rows name the server"
else
	skip "memcached or the preload shim not available"
fi

# Ctrl-C in the middle: exit 130, namespaces and processes gone
"$IRQLAB_BUILD/irqlab" bench --quick --time 5 --warmup 0 --reps 1 --points none \
	--modes base,suspend -o "$T/int" >/dev/null 2>"$T/int.err" &
bpid=$!
i=0; while [ $i -lt 100 ] && ! grep -qs '^# server for mode' "$T/int/plan.txt"; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -INT $bpid; wait $bpid; rc=$?
[ "$rc" -eq 130 ] || sed "s/^/# /" "$T/int.err" | tail -3
is "$rc" 130 "SIGINT: exit status 130"
left=0; ip netns list | grep -Eqw "irqlab-[sc]$bpid" && left=1
is "$left" 0 "SIGINT: namespaces removed"
left=0
for pid in $(sed -n 's/^# server for mode .*: pid \([0-9]*\).*/\1/p' "$T/int/plan.txt"); do
	grep -qs irqlab-kv "/proc/$pid/cmdline" && left=1
done
is "$left" 0 "SIGINT: server stopped"
# our children write into $T/int/logs: none may still hold a file there
for p in /proc/[0-9]*; do
	ls -l "$p/fd" 2>/dev/null | grep -q "$T/int/logs" && left=1
done
is "$left" 0 "SIGINT: no server or load generator left"
done_testing
