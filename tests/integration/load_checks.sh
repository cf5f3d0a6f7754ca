#!/bin/sh
# Statistics that check themselves (issue 13): the stationarity check fires
# on a server that slows down halfway (and moves far less on one that does
# not), every percentile gets a confidence interval around it, --ci stops a
# run early once p99 is known well enough, the inter-arrival check passes
# for a polling generator and fails when sends are delayed, closed loop has
# no schedule checks, and --hdr writes an .hgrm table that reads back.
# asan: no (timing)
. "$IRQLAB_SRC/tests/lib.sh"
stall_world load-chk

start_stall() {	# start_stall ARGS: sets SPID, PORT
	"$STALL" --lifetime 60 "$@" > "$T/port" &
	SPID=$!
	for _ in $(seq 1 50); do
		PORT=$(sed -n 's/^port //p' "$T/port")
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	return 1
}
stop_stall() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=; }
chk() { json_get "$1" "\$j->{checks}{$2}{$3} // 'null'"; }

# A server that answers 400 us later from 1 s on, in a 2 s open-loop run.
start_stall --stall-for 0 --slow-after 1000 --slow-us 400 || skip_all "stall_server did not start"
"$LOAD" -s 127.0.0.1:"$PORT" --noload -q 2000 -c 4 -t 2 --json > "$T/slow.json"
ok $? "open loop against a server that slows down halfway runs"
stop_stall
start_stall --stall-for 0 || skip_all "stall_server did not start"
"$LOAD" -s 127.0.0.1:"$PORT" --noload -q 2000 -c 4 -t 2 --json > "$T/calm.json"
slow=$(chk "$T/slow.json" stationarity stat)
calm=$(chk "$T/calm.json" stationarity stat)
diag "stationarity: p50/p90 moved by $slow (slowed down) and $calm (steady)"
is "$(chk "$T/slow.json" stationarity ok)" 0 "stationarity check fires on the server that slowed down"
json_get "$T/slow.json" 'join "\n", @{$j->{warnings}}' | grep -q "last third of the run differs"
ok $? "... with a warning in words"
ok "$(perl -e 'print $ARGV[1] < $ARGV[0] / 3 ? 0 : 1' "$slow" "$calm")" \
	"the steady server's shift ($calm) is far below the slowed one's ($slow)"

# Intervals: around the percentile, for the kernel-stamped latency.
ok "$(json_get "$T/calm.json" 'my $g = $j->{latency_us}{get}{kernel_corrected}; my $c = $g->{ci}{p50};
	$c && $c->[0] <= $g->{p50} && $g->{p50} <= $c->[1] && $j->{ci_level} == 0.95 ? 0 : 1')" \
	"p50 has a 95% confidence interval around it"
json_get "$T/calm.json" 'join "\n", map { "$_ " . ($j->{checks}{$_}{ok} // "null") } sort keys %{$j->{checks}}' > "$T/names"
ok "$(grep -c -E '^(ci|stationarity|interarrival|schedule) ' "$T/names" | grep -qx 4 && echo 0 || echo 1)" \
	"open loop: ci, stationarity, interarrival and schedule checks in the JSON"
"$LOAD" -s 127.0.0.1:"$PORT" --noload -c 2 -t 0.5 --json > "$T/closed.json"
ok "$(json_get "$T/closed.json" 'exists $j->{checks}{interarrival} || exists $j->{checks}{schedule} ? 1 : 0')" \
	"closed loop: no schedule checks (there is no schedule)"
"$LOAD" -s 127.0.0.1:"$PORT" --noload -q 1000 -i fixed -c 2 -t 0.5 --json > "$T/fixed.json"
is "$(chk "$T/fixed.json" interarrival ok)" null "fixed gaps: the inter-arrival check says it cannot run"

# Inter-arrival: a polling generator at a low rate keeps the requested
# shape. That needs the CPU to itself: a run whose own send lag shows it was
# preempted (p90 > 100 us) is repeated, and after three such runs the case
# is skipped with the figures. Delayed wake-ups (with connections to spare,
# so the lateness is the generator's) fail both schedule checks.
quiet=
for try in 1 2 3; do
	"$LOAD" -s 127.0.0.1:"$PORT" --noload -q 500 -c 2 -t 3 --spin-us 2000 --json > "$T/spin.json"
	lag=$(json_get "$T/spin.json" '$j->{schedule}{send_lag_us}{p90}')
	perl -e 'exit !($ARGV[0] <= 100)' "$lag" && { quiet=1; break; }
done
diag "polling at 500 QPS: inter-arrival KS distance $(chk "$T/spin.json" interarrival stat), send lag p90 $lag us"
if [ -n "$quiet" ]; then
	is "$(chk "$T/spin.json" interarrival ok)" 1 "polling generator: achieved gaps follow the exponential"
else
	skip "polling generator preempted in 3 runs (send lag p90 $lag us): the machine is busy"
fi
"$LOAD" -s 127.0.0.1:"$PORT" --noload -q 2000 -c 32 -t 1 --wake-delay-us 1500 --json > "$T/late.json"
diag "inter-arrival KS distance: $(chk "$T/late.json" interarrival stat) with 1.5 ms wake-up delays"
is "$(chk "$T/late.json" interarrival ok)" 0 "wake-ups delayed 1.5 ms at 2000 QPS: the gaps check fails"
is "$(chk "$T/late.json" schedule ok)" 0 "... and so does the schedule check"

# --ci: a long run that ends once p99 is within 50% (closed loop, plenty of
# values); the JSON says how long it ran.
"$LOAD" -s 127.0.0.1:"$PORT" --noload -c 4 -t 20 --ci 50% --json > "$T/ci.json" 2> "$T/ci.err"
d=$(json_get "$T/ci.json" '$j->{duration_s}')
diag "--ci 50%: stopped after $d s of 20, p99 +-$(chk "$T/ci.json" ci stat)"
ok "$(perl -e 'print $ARGV[0] < 15 ? 0 : 1' "$d")" "--ci 50%: the run ends early ($d s of 20)"
is "$(chk "$T/ci.json" ci ok)" 1 "--ci 50%: the ci check passed"

# --hdr: the .hgrm table parses back, its count is every measured request.
"$LOAD" -s 127.0.0.1:"$PORT" --noload -q 2000 -c 2 -t 0.5 --json --hdr "$T/out.hgrm" > "$T/h.json"
n=$(json_get "$T/h.json" '$j->{requests}{gets} + $j->{requests}{sets}')
r=$(perl -e 'my ($rows, $last, $mono, $total, $lp) = (0, 0, 1, -1, -1);
	while (<>) {
		if (/^\s*([\d.]+)\s+([\d.]+)\s+(\d+)/) { $mono &&= $2 > $lp; $lp = $2; $last = $3; $rows++ }
		$total = $1 if /Total count\s*=\s*(\d+)/;
	}
	print "$rows $mono $last $total $lp\n"' "$T/out.hgrm")
set -- $r
diag ".hgrm: $1 rows, last count $3, footer count $4 (JSON: $n requests)"
ok "$([ "$1" -gt 10 ] && [ "$2" = 1 ] && [ "$3" = "$n" ] && [ "$4" = "$n" ] && [ "$5" = 1.000000 ] && echo 0 || echo 1)" \
	"--hdr: .hgrm rows rise to 100%, counts match the JSON"
"$LOAD" -s 127.0.0.1:"$PORT" --noload -t 0.2 --hdr /nonexistent/dir/x.hgrm > /dev/null 2> "$T/hdr.err"
ok "$([ $? -eq 1 ] && grep -q -- "--hdr: cannot write /nonexistent/dir/x.hgrm" "$T/hdr.err" && echo 0 || echo 1)" \
	"--hdr into a missing directory: exit 1, says so"
done_testing
