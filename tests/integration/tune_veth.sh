#!/bin/sh
# A short measured tune on the bench's veth pair: it ends with a
# recommendation whose re-measurement meets the target; nothing is left
# behind (namespaces, servers) and the host's NAPI settings are what they
# were; the same after SIGINT in the middle of a run, while the server
# veth carries the candidate's NAPI settings.
. "$IRQLAB_SRC/tests/lib.sh"
B=$IRQLAB_BUILD/irqlab
[ -x "$B" ] || skip_all "irqlab not built"
need_root
need_cmd ip
need_cmd ethtool
ip netns add tune-probe$$ 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del tune-probe$$
case "$(uname -r)" in
[0-5].*|6.[0-9].*|6.1[0-2].*) skip_all "needs Linux 6.13+ (per-NAPI settings), this is $(uname -r)" ;;
esac
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

host_napi() { "$B" napi list 2>/dev/null | grep -v '^DEV' | grep -v '^ib[sc]' | sort; }
host_napi > "$T/napi.before"

# a loose target at a light load: the shared 2-vCPU machine is noisy
printf 'base\ndefer\n' > "$T/cands"
# bounded: the budget, and a watchdog (tune's own pid names its namespaces)
# (its own output closed: prove waits for every holder of the test's stdout)
watch() { ( sleep "$1"; kill "$2" ) > /dev/null 2>&1 & wpid=$!; }
"$B" tune --qps 2000 --slo 'p99<=50ms' --candidates "$T/cands" --time 1 \
	--warmup 0.2 --budget 90s -o "$T/out" > "$T/stdout" 2> "$T/stderr" &
pid=$!
watch 240 $pid
wait $pid; rc=$?
kill $wpid 2>/dev/null
busy=$(grep "^warning: .*not this machine's own" "$T/stdout")
if [ -z "$busy" ]; then
	is "$rc" 0 "measured tune: exit 0 $(tail -n 2 "$T/stderr" | tr '\n' ' ')"
	grep -Eq "^(recommendation|no single winner)" "$T/stdout"; ok $? "a recommendation"
	grep -q "^re-measurement of c00[01] (3 fresh runs" "$T/stdout"; ok $? "re-measured"
	grep "^re-measurement" "$T/stdout" | grep -q ": meets the target"; ok $? "the re-measurement meets the target: $(grep '^re-measurement' "$T/stdout")"
else
	# other processes took the machine: the latencies are theirs, the
	# verdict may be "undecided"; the tune still ends cleanly and says so
	case "$rc" in 0|1) ok 0 "busy machine: tune ended with a verdict (exit $rc)" ;;
	*) ok 1 "busy machine: tune ended with a verdict (exit $rc)" ;; esac
	grep -Eq "^(recommendation|no single winner|undecided|infeasible)" "$T/stdout"
	ok $? "busy machine: a verdict is printed"
	skip "the re-measurement against the target: the machine was busy ($busy)"
	skip "the re-measurement meets the target: the machine was busy"
fi
! grep -q "exited with status" "$T/stderr"; ok $? "the teardown ran each deletion once ($(grep 'exited with status' "$T/stderr" | head -1))"
grep -q '"source": "measured"' "$T/out/tune.json"; ok $? "tune.json has measured rows"
perl "$IRQLAB_SRC/bench/schema-check.pl" "$IRQLAB_SRC/docs/result-schema.md" "$T/out/tune.json" \
	> /dev/null 2>&1; ok $? "tune.json follows the result schema"
grep -q "(ibs$pid)" "$T/stderr"; ok $? "the world was named after tune's pid ($pid)"
ip netns list | grep -Eq "irqlab-[sc]$pid( |$)"; is $? 1 "its namespaces are gone"
pgrep -f "irqlab-kv .*ibs$pid" > /dev/null; is $? 1 "no server left"
host_napi > "$T/napi.after"
cmp -s "$T/napi.before" "$T/napi.after"; ok $? "the host's NAPI settings are unchanged"

# SIGINT while a candidate runs
printf 'defer,gro_flush_timeout=50us\nbase\nsuspend\n' > "$T/cands2"
"$B" tune --qps 2000 --slo 'p99<=50ms' --candidates "$T/cands2" --time 2 \
	--warmup 0.2 --budget 120s -o "$T/int" > "$T/stdout2" 2> "$T/stderr2" &
pid=$!
watch 240 $pid
# wait until the first server listens in the tune's namespace, then look
# at the server veth's NAPI settings: the defer candidate's
seen=""
for i in $(seq 1 100); do
	if ip netns list | grep -q "irqlab-s$pid"; then
		seen=$(ip netns exec irqlab-s$pid "$B" napi list 2>/dev/null | grep "^ibs$pid")
		case "$seen" in *" 50000 "*|*50us*) break ;; esac
	fi
	sleep 0.1
done
case "$seen" in *" 50000 "*|*50us*) ok 0 "while it runs the server veth has the candidate's settings" ;;
*) ok 1 "while it runs the server veth has the candidate's settings (saw: $seen)" ;; esac
kill -INT $pid
wait $pid; rc=$?
kill $wpid 2>/dev/null
is "$rc" 130 "SIGINT: exit 130"
grep -q "INTERRUPTED" "$T/stdout2"; ok $? "SIGINT: the report says so"
[ -s "$T/int/report.md" ]; ok $? "SIGINT: what ran is still written"
ip netns list | grep -Eq "irqlab-[sc]$pid( |$)"; is $? 1 "SIGINT: its namespaces (and the veth's settings) are gone"
pgrep -f "irqlab-kv .*ibs$pid" > /dev/null; is $? 1 "SIGINT: no server left"
host_napi > "$T/napi.after"
cmp -s "$T/napi.before" "$T/napi.after"; ok $? "SIGINT: the host's NAPI settings are unchanged"
done_testing
