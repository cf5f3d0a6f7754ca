#!/bin/sh
# Speed of irqlab-load against mutilate -B, side by side against one
# memcached (1 thread pinned to CPU 1; generators 1 thread pinned to CPU 0),
# closed loop, depth 1: requests per generator CPU-second (user+sys,
# getrusage / GNU time) and system calls per request (strace -c -f on a
# short run, and irqlab-load's own counters). Medians of REPS, runs
# interleaved so drift hits every tool alike.
#   MUTILATE=/path/to/mutilate scripts/bench-load.sh [build-dir]
# Environment: REPS (3), TIME (4 s per run), CONNS (16), DEPTH (1),
# RECORDS (100000), ENGINES ("uring epoll": irqlab-load's variants to run:
# an engine, optionally with options after commas, e.g. "uring,--batch=8"
# or "uring,--timestamps=off"),
# SETUP:
#   lo    loopback (default). The server's receive processing of every
#         request runs in the generator's send() (softirq in its context),
#         so about half of any generator's CPU time is the server's.
#   veth  the veth pair of tests/netns.sh (needs root and build/irqlab):
#         the server's veth NAPI is threaded and its kthread pinned to the
#         server's CPU; the generator still pays for waking that kthread
#         (an IPI per request) in its send().
#   veth-busy  the veth pair, memcached under the preload shim in mode
#         busywait (needs root and build/libirqlab-preload.so): the server
#         busy polls its NAPI, which stays scheduled (veth's
#         rx_notify_masked), so a generator's send only enqueues the packet:
#         no softirq, no wake-up of the server. The replies' receive work
#         (the client veth's NAPI) runs on the server's CPU, in its send.
#         Counters printed per tool: NET_RX softirqs per request on each
#         CPU, and the share of the server's received segments that were
#         busy polled (TcpExt BusyPollRxPackets / Tcp InSegs).
# mutilate is built by you, outside this repository; without $MUTILATE its
# side is skipped.
set -u
BUILD=${1:-build}
LOAD=$BUILD/irqlab-load
REPS=${REPS:-3}
TIME=${TIME:-4}
CONNS=${CONNS:-16}
DEPTH=${DEPTH:-1}
RECORDS=${RECORDS:-100000}
ENGINES=${ENGINES:-uring epoll}
SETUP=${SETUP:-lo}
case $SETUP in
lo|veth|veth-busy) ;;
*)	echo "bench-load: SETUP must be lo, veth or veth-busy (got '$SETUP')" >&2; exit 2 ;;
esac
[ -x "$LOAD" ] || { echo "bench-load: $LOAD not built (run make)" >&2; exit 1; }
command -v memcached >/dev/null || { echo "bench-load: needs memcached" >&2; exit 1; }
command -v perl >/dev/null || { echo "bench-load: needs perl" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-load: needs GNU time (/usr/bin/time)" >&2; exit 1; }
MUT=${MUTILATE:-}
if [ -z "$MUT" ] || [ ! -x "$MUT" ]; then
	echo "bench-load: \$MUTILATE not set or not executable: skipping the mutilate side"
	MUT=
fi
T=$(mktemp -d /tmp/irqlab-bench-load.XXXXXX)
MPID=
cleanup() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null; [ -n "$MPID" ] && wait "$MPID" 2>/dev/null; rm -rf "$T"; [ -n "${NS_SRV:-}" ] && netns_down; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

U=; [ "$(id -u)" -eq 0 ] && U="-u nobody"
case $SETUP in
lo)
	SRV="taskset -c 1"
	CLI="taskset -c 0"
	PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport')
	S=127.0.0.1:$PORT
	;;
veth|veth-busy)
	[ "$(id -u)" -eq 0 ] || { echo "bench-load: SETUP=$SETUP needs root (network namespaces)" >&2; exit 1; }
	[ -x "$BUILD/irqlab" ] || { echo "bench-load: SETUP=$SETUP needs $BUILD/irqlab" >&2; exit 1; }
	PRE=$(cd "$BUILD" && pwd)/libirqlab-preload.so
	[ "$SETUP" = veth ] || [ -f "$PRE" ] || { echo "bench-load: SETUP=$SETUP needs $PRE" >&2; exit 1; }
	. "$(dirname "$0")/../tests/netns.sh"
	netns_up || { echo "bench-load: cannot create the veth pair" >&2; exit 1; }
	trap cleanup EXIT
	trap 'cleanup; exit 130' INT TERM
	SRV="ip netns exec $NS_SRV taskset -c 1"
	CLI="ip netns exec $NS_CLI taskset -c 0"
	PORT=11211
	S=$SRV_IP:$PORT
	if [ "$SETUP" = veth-busy ]; then
		# The shim applies busywait's NAPI knobs to the device (and
		# restores them when memcached is gone) and spins memcached's
		# epoll waits in 1 ns busy-polling epoll_pwait2 calls.
		SRV="$SRV env IRQLAB_MODE=busywait IRQLAB_DEV=$DEV_SRV LD_PRELOAD=$PRE"
	fi
	;;
esac
if [ "$SETUP" = veth ]; then
	napi() { ip netns exec "$NS_SRV" "$BUILD/irqlab" napi list --dev "$DEV_SRV" --json |
		perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); print $j->[0]{$ARGV[0]}' "$1"; }
	ip netns exec "$NS_SRV" "$BUILD/irqlab" napi set --id "$(napi id)" --threaded 1 >/dev/null ||
		{ echo "bench-load: cannot make the server's NAPI threaded" >&2; exit 1; }
	taskset -p -c 1 "$(napi pid)" >/dev/null ||
		{ echo "bench-load: cannot pin the NAPI kthread" >&2; exit 1; }
fi

$SRV memcached $U -l "${S%:*}" -p "$PORT" -t 1 -U 0 -m 256 &
MPID=$!
sleep 0.5
$CLI "$LOAD" -s "$S" -r "$RECORDS" --loadonly 2>/dev/null || { echo "bench-load: preload failed" >&2; exit 1; }
COMMON="-r $RECORDS -u 0.03 -K 30 -V 200 -c $CONNS -d $DEPTH"
echo "setup $SETUP: memcached 1 thread on CPU 1, generators 1 thread on CPU 0, $CONNS connections, depth $DEPTH, ${TIME}s runs, $REPS reps"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rep tool           qps        cpu_s   req/cpu-s  (whole process, GNU time)  NET_RX/req cpu0 cpu1, server busy-polled %"

# Counters around each timed run: NET_RX softirqs on CPUs 0 and 1 (the
# whole machine: other work on it counts too), and in the server's
# namespace the TCP segments received and those busy polling received.
NSX=; [ "$SETUP" = lo ] || NSX="ip netns exec $NS_SRV"
snap() {
	awk '/NET_RX/ { printf "%s %s ", $2, $3 }' /proc/softirqs
	$NSX awk '$1 == "Tcp:" || $1 == "TcpExt:" { if (!($1 in h)) { h[$1] = $0; next }
		split(h[$1], k); for (i = 2; i <= NF; i++) v[k[i]] = $i }
		END { print v["InSegs"] + 0, v["BusyPollRxPackets"] + 0 }' /proc/net/snmp /proc/net/netstat
}
# ctr TOOL BEFORE AFTER REQUESTS: per request NET_RX on CPU 0 and 1, and
# the busy-polled share of the server namespace's received segments
# (meaningless on lo: both directions are in one namespace, none polled).
ctr() {
	c=$(perl -e 'my ($n, @a) = @ARGV; my @b = splice @a, 4; my @d = map { $b[$_] - $a[$_] } 0..3;
		printf "%.3f %.3f %.1f", $d[0] / $n, $d[1] / $n, $d[2] ? 100 * $d[3] / $d[2] : 0' "$4" $2 $3)
	echo "$c" >> "$T/ctr-$1"
	echo "$c"
}

json() { perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>); print eval($ARGV[1]), "\n"' "$1" "$2"; }
row() { echo "$@" | awk '{printf "%-3s %-14s %-10s %-7s %-10s %-9s  %s %s %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'; }

for rep in $(seq 1 "$REPS"); do
	for e in $ENGINES; do
		b=$(snap)
		$CLI /usr/bin/time -o "$T/il.time" -f "%U %S" "$LOAD" -s "$S" --noload $COMMON -T 1 \
			--engine $(echo "$e" | tr ',' ' ') -t "$TIME" --json > "$T/il-$e.json"
		a=$(snap)
		il=$(json "$T/il-$e.json" 'sprintf "%.0f %.3f %.0f", $j->{qps}, $j->{generator}{cpu_s}, ($j->{requests}{gets} + $j->{requests}{sets}) / $j->{generator}{cpu_s}')
		# The same measure as mutilate's: every request of the run over
		# the process's CPU time (connect, threads, drain included).
		whole=$(json "$T/il-$e.json" '$j->{totals}{gets} + $j->{totals}{sets}' |
			perl -e 'my $n = <STDIN>; open my $f, "<", $ARGV[0] or die; my ($u, $s) = split " ", <$f>; printf "%.0f", $n / ($u + $s)' "$T/il.time")
		c=$(ctr "il-$e" "$b" "$a" "$(json "$T/il-$e.json" '$j->{totals}{gets} + $j->{totals}{sets}')")
		row "$rep irqlab-load/$e $il ($whole) $c"
		echo "$il" | awk '{print $3}' >> "$T/il-$e.rate"
		echo "$whole" >> "$T/il-$e.whole"
	done
	if [ -n "$MUT" ]; then
		b=$(snap)
		$CLI /usr/bin/time -f "CPU %U %S" "$MUT" -s "$S" --noload $COMMON -T 1 -B \
			-t "$TIME" > "$T/mut.out" 2>&1
		a=$(snap)
		mu=$(perl -ne '$q = $1, $n = $2 if /Total QPS = ([\d.]+) \((\d+) /; $c = $1 + $2 if /^CPU ([\d.]+) ([\d.]+)/;
			END { printf "%.0f %.3f %.0f\n", $q, $c, $c ? $n / $c : 0 }' "$T/mut.out")
		c=$(ctr mu "$b" "$a" "$(perl -ne 'print "$1\n" if /Total QPS = [\d.]+ \((\d+) /' "$T/mut.out")")
		row "$rep mutilate $mu - $c"
		echo "$mu" | awk '{print $3}' >> "$T/mu.rate"
		for e in $ENGINES; do
			perl -e 'printf "%.3f\n", $ARGV[1] ? $ARGV[0] / $ARGV[1] : 0' \
				"$(tail -n 1 "$T/il-$e.rate")" "$(echo "$mu" | awk '{print $3}')" >> "$T/ratio-$e"
			perl -e 'printf "%.3f\n", $ARGV[1] ? $ARGV[0] / $ARGV[1] : 0' \
				"$(tail -n 1 "$T/il-$e.whole")" "$(echo "$mu" | awk '{print $3}')" >> "$T/wratio-$e"
		done
	fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
spread() { sort -n "$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo ".." hi}'; }
col() { awk -v c="$2" '{ print $c }' "$T/ctr-$1" > "$T/col"; echo "$(median "$T/col") ($(spread "$T/col"))"; }
ctrs() { echo "  per request: NET_RX on CPU 0 $(col "$1" 1), on CPU 1 $(col "$1" 2); server segments busy polled $(col "$1" 3) %"; }
[ -n "$MUT" ] && echo "mutilate -B: median $(median "$T/mu.rate") requests per CPU-second (range $(spread "$T/mu.rate"))" && ctrs mu
for e in $ENGINES; do
	ilm=$(median "$T/il-$e.rate")
	echo "irqlab-load/$e: median $ilm requests per CPU-second (range $(spread "$T/il-$e.rate"))"
	ctrs "il-$e"
	[ -n "$MUT" ] && echo "  ratio to mutilate -B: $(perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$ilm" "$(median "$T/mu.rate")") of the medians;" \
		"median of the per-rep ratios $(median "$T/ratio-$e") (range $(spread "$T/ratio-$e"))"
	[ -n "$MUT" ] && echo "  whole process (GNU time for both): median $(median "$T/il-$e.whole") requests per CPU-second;" \
		"median of the per-rep ratios $(median "$T/wratio-$e") (range $(spread "$T/wratio-$e"))"
done

# System calls per request: strace counts every call of every thread.
if command -v strace >/dev/null; then
	sc() {	# sc OUTFILE: total calls from strace -c
		perl -ne 'print "$1\n" if /^100\.00\s+\S+\s+(?:\S+\s+)?(\d+)\s+(?:\d+\s+)?total/' "$1"
	}
	for e in $ENGINES; do
		$CLI strace -c -f -o "$T/il.strace" "$LOAD" -s "$S" --noload $COMMON -T 1 --engine $(echo "$e" | tr ',' ' ') -t 1 --json > "$T/ils.json"
		n=$(json "$T/ils.json" '$j->{totals}{gets} + $j->{totals}{sets}')
		echo "irqlab-load/$e: $(perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$(sc "$T/il.strace")" "$n") system calls per request (strace -c -f, $n requests, whole run); own counters (window only): $(json "$T/ils.json" 'sprintf "%.2f", $j->{generator}{syscalls_per_request}') under strace, $(json "$T/il-$e.json" 'sprintf "%.2f", $j->{generator}{syscalls_per_request}') in the last timed run"
	done
	if [ -n "$MUT" ]; then
		$CLI strace -c -f -o "$T/mu.strace" "$MUT" -s "$S" --noload $COMMON -T 1 -B -t 1 > "$T/mus.out" 2>&1
		n=$(perl -ne 'print "$1\n" if /Total QPS = [\d.]+ \((\d+) /' "$T/mus.out")
		echo "mutilate -B: $(perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$(sc "$T/mu.strace")" "$n") system calls per request (strace -c -f, $n requests)"
	fi
else
	echo "bench-load: strace not installed: system calls per request from irqlab-load's own counters only"
fi
