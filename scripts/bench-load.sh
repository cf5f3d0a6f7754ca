#!/bin/sh
# Speed of irqlab-load against mutilate, side by side against one memcached
# (pinned to CPU 1; generators pinned to CPU 0), closed loop, depth 1:
# requests per generator CPU-second (user+sys, getrusage / GNU time) and
# system calls per request (strace -c -f on a short run). Medians of REPS,
# runs interleaved so drift hits both tools alike.
#   MUTILATE=/path/to/mutilate scripts/bench-load.sh [build-dir]
# Environment: REPS (3), TIME (4 s per run), CONNS (16), DEPTH (1),
# RECORDS (100000). mutilate is built by you, outside this repository;
# without $MUTILATE its side is skipped.
set -u
BUILD=${1:-build}
LOAD=$BUILD/irqlab-load
REPS=${REPS:-3}
TIME=${TIME:-4}
CONNS=${CONNS:-16}
DEPTH=${DEPTH:-1}
RECORDS=${RECORDS:-100000}
[ -x "$LOAD" ] || { echo "bench-load: $LOAD not built (run make)" >&2; exit 1; }
command -v memcached >/dev/null || { echo "bench-load: needs memcached" >&2; exit 1; }
command -v perl >/dev/null || { echo "bench-load: needs perl" >&2; exit 1; }
MUT=${MUTILATE:-}
if [ -z "$MUT" ] || [ ! -x "$MUT" ]; then
	echo "bench-load: \$MUTILATE not set or not executable: skipping the mutilate side"
	MUT=
fi
[ -x /usr/bin/time ] || { echo "bench-load: needs GNU time (/usr/bin/time)" >&2; exit 1; }
T=$(mktemp -d /tmp/irqlab-bench-load.XXXXXX)
MPID=
cleanup() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM

PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport')
U=; [ "$(id -u)" -eq 0 ] && U="-u nobody"
taskset -c 1 memcached $U -l 127.0.0.1 -p "$PORT" -t 1 -U 0 -m 256 &
MPID=$!
sleep 0.5
S=127.0.0.1:$PORT
"$LOAD" -s "$S" -r "$RECORDS" --loadonly 2>/dev/null || { echo "bench-load: preload failed" >&2; exit 1; }
COMMON="-r $RECORDS -u 0.03 -K 30 -V 200 -c $CONNS -d $DEPTH"
echo "memcached 1 thread on CPU 1, generators 1 thread on CPU 0, $CONNS connections, depth $DEPTH, ${TIME}s runs, $REPS reps"
echo "rep tool        qps        cpu_s   req/cpu-s"

json() { perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>); print eval($ARGV[1]), "\n"' "$1" "$2"; }

for rep in $(seq 1 "$REPS"); do
	"$LOAD" -s "$S" --noload $COMMON -T 1 --cpus 0 -t "$TIME" --json > "$T/il.json"
	il=$(json "$T/il.json" 'sprintf "%.0f %.3f %.0f", $j->{qps}, $j->{generator}{cpu_s}, ($j->{requests}{gets} + $j->{requests}{sets}) / $j->{generator}{cpu_s}')
	echo "$rep irqlab-load $il" | awk '{printf "%-3s %-11s %-10s %-7s %s\n", $1, $2, $3, $4, $5}'
	echo "$il" | awk '{print $3}' >> "$T/il.rate"
	if [ -n "$MUT" ]; then
		taskset -c 0 /usr/bin/time -f "CPU %U %S" "$MUT" -s "$S" --noload $COMMON -T 1 -B \
			-t "$TIME" > "$T/mut.out" 2>&1
		mu=$(perl -ne '$q = $1, $n = $2 if /Total QPS = ([\d.]+) \((\d+) /; $c = $1 + $2 if /^CPU ([\d.]+) ([\d.]+)/;
			END { printf "%.0f %.3f %.0f\n", $q, $c, $c ? $n / $c : 0 }' "$T/mut.out")
		echo "$rep mutilate $mu" | awk '{printf "%-3s %-11s %-10s %-7s %s\n", $1, $2, $3, $4, $5}'
		echo "$mu" | awk '{print $3}' >> "$T/mu.rate"
		perl -e 'printf "%.3f\n", $ARGV[1] ? $ARGV[0] / $ARGV[1] : 0' "$(echo "$il" | awk '{print $3}')" \
			"$(echo "$mu" | awk '{print $3}')" >> "$T/ratio"
	fi
done

median() { sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
spread() { sort -n "$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f..%.0f", lo, hi}'; }
ilm=$(median "$T/il.rate")
echo "irqlab-load: median $ilm requests per CPU-second (range $(spread "$T/il.rate"))"
if [ -n "$MUT" ]; then
	mum=$(median "$T/mu.rate")
	echo "mutilate -B: median $mum requests per CPU-second (range $(spread "$T/mu.rate"))"
	echo "ratio irqlab-load / mutilate: $(perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$ilm" "$mum") of the medians;" \
		"median of the per-rep ratios $(median "$T/ratio") (range $(sort -n "$T/ratio" | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo ".." hi}'))"
fi

# System calls per request: strace counts every call of every thread.
if command -v strace >/dev/null; then
	sc() {	# sc OUTFILE: total calls from strace -c
		perl -ne 'print "$1\n" if /^100\.00\s+\S+\s+(?:\S+\s+)?(\d+)\s+(?:\d+\s+)?total/' "$1"
	}
	strace -c -f -o "$T/il.strace" "$LOAD" -s "$S" --noload $COMMON -T 1 --cpus 0 -t 1 --json > "$T/ils.json"
	n=$(json "$T/ils.json" '$j->{totals}{gets} + $j->{totals}{sets}')
	echo "irqlab-load: $(perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$(sc "$T/il.strace")" "$n") system calls per request (strace -c -f, $n requests, own counters say $(json "$T/il.json" 'sprintf "%.2f", $j->{generator}{syscalls_per_request}') in the timed runs)"
	if [ -n "$MUT" ]; then
		taskset -c 0 strace -c -f -o "$T/mu.strace" "$MUT" -s "$S" --noload $COMMON -T 1 -B -t 1 > "$T/mus.out" 2>&1
		n=$(perl -ne 'print "$1\n" if /Total QPS = [\d.]+ \((\d+) /' "$T/mus.out")
		echo "mutilate -B: $(perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$(sc "$T/mu.strace")" "$n") system calls per request (strace -c -f, $n requests)"
	fi
else
	echo "bench-load: strace not installed: system calls per request from irqlab-load's own counters only"
fi
