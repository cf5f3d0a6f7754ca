#!/bin/sh
# Both I/O engines (--engine epoll and uring) measure the same things: counts
# equal memcached's stats deltas (closed and open loop, large values that
# need several sends and reads), open-loop latency starts at the scheduled
# send (a stalling server shows in the corrected p99 only), a server that
# dies mid-run is reported, and io_uring batches (under one system call per
# request where epoll needs two).
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd memcached
need_cmd perl
LOAD=$IRQLAB_BUILD/irqlab-load
STALL=$IRQLAB_BUILD/tests/helpers/stall_server
[ -x "$LOAD" ] || skip_all "irqlab-load not built"
T=$(mktemp -d /tmp/irqlab-load-eng.XXXXXX)
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT INT TERM
skips() { _n=$1; shift; for _ in $(seq 1 "$_n"); do skip "$@"; done; }

"$LOAD" -s 127.0.0.1:1 --engine bogus > /dev/null 2> "$T/bad.err"
is $? 2 "--engine bogus: exit status 2"
grep -q -- "--engine: 'bogus' is not auto, epoll or uring" "$T/bad.err"
ok $? "--engine bogus: the message names the option and the choices"

# 1 GB: with 64 MB, 0-300 kB values spread over some forty slab classes can
# leave one without a page, and memcached answers SERVER_ERROR out of memory.
MC_MEM=1024
start_memcached || skip_all "memcached did not start"
PIDS="$PIDS $MPID"
ENGINES=epoll
if "$LOAD" -s 127.0.0.1:"$PORT" --engine uring --loadonly -r 10 2> "$T/probe.err"; then
	ENGINES="epoll uring"
fi

# io_uring refused (as with sysctl kernel.io_uring_disabled): strace makes
# io_uring_setup fail with EPERM; auto falls back with a note, uring fails.
# (LeakSanitizer cannot run under ptrace: off for these two runs.)
if command -v strace >/dev/null 2>&1; then
	ASAN_SAVED=${ASAN_OPTIONS-}
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	strace -f -o /dev/null -e inject=io_uring_setup:error=EPERM \
		"$LOAD" -s 127.0.0.1:"$PORT" -r 100 -c 2 -t 0.2 --json > "$T/fb.json" 2> "$T/fb.err"
	ok "$([ $? -eq 0 ] && [ "$(json_get "$T/fb.json" '$j->{config}{engine}')" = epoll ] && echo 0 || echo 1)" \
		"io_uring refused: auto runs on epoll"
	grep -q "note: io_uring not available (io_uring_setup: Operation not permitted" "$T/fb.err"
	ok $? "io_uring refused: auto says so on stderr"
	strace -f -o /dev/null -e inject=io_uring_setup:error=EPERM \
		"$LOAD" -s 127.0.0.1:"$PORT" -r 100 -c 2 -t 0.2 --engine uring > /dev/null 2> "$T/fb.err"
	rc=$?
	ok "$([ $rc -eq 2 ] && grep -q -- "--engine: uring not available" "$T/fb.err" && echo 0 || echo 1)" \
		"io_uring refused: --engine uring fails (status $rc) with the reason"
	export ASAN_OPTIONS="$ASAN_SAVED"
else
	skips 3 "needs strace (to make io_uring_setup fail)"
fi

# agree ENGINE NAME args...: the counts of one run equal the server's deltas
agree() {
	_e=$1; _name="$1: $2"; shift 2
	_b=$(mc_counts "$PORT")
	"$LOAD" -s 127.0.0.1:"$PORT" --engine "$_e" --json "$@" > "$T/run.json" 2> "$T/run.err"
	_rc=$?
	_a=$(mc_counts "$PORT")
	ok $_rc "$_name: run succeeds"
	[ $_rc -eq 0 ] || { diag "$(cat "$T/run.err")"; return; }
	is "$(json_get "$T/run.json" '$j->{config}{engine}')" "$_e" "$_name: the report names the engine"
	_mine=$(json_get "$T/run.json" 'join " ", map { $j->{totals}{$_} } qw(gets sets misses)')
	_theirs=$(perl -e '@b = split " ", $ARGV[0]; @a = split " ", $ARGV[1]; print join(" ", map { $a[$_] - $b[$_] } 0..2)' "$_b" "$_a")
	is "$_mine" "$_theirs" "$_name: gets sets misses ($_mine) match the server's stats deltas"
	_r=$(json_get "$T/run.json" '$j->{qps} > 0 && $j->{totals}{unanswered} == 0 && $j->{totals}{errors} == 0 && $j->{totals}{protocol_errors} == 0 ? 0 : 1')
	ok "$_r" "$_name: nothing lost, no errors"
	[ "$_r" = 0 ] || diag "$(json_get "$T/run.json" '"qps $j->{qps}, totals " . join(" ", map { "$_=$j->{totals}{$_}" } sort keys %{$j->{totals}}) . "; " . join("; ", @{$j->{warnings}})') $(cat "$T/run.err")"
}

for e in $ENGINES; do
	agree "$e" "closed loop, preload" -r 2000 -u 0.2 -T 2 -c 3 -d 2 -t 0.5
	agree "$e" "open loop, misses" --noload -K 23 -r 500 -u 0.3 -q 4000 -c 2 -t 0.5
	# 100-300 kB values at depth 4: sends and reads of many pieces
	agree "$e" "large values, depth 4" -r 200 -V uniform:300000 -u 0.5 -d 4 -c 2 -t 0.5 --preload-depth 4
done

# Batching: closed loop, 16 connections, depth 1.
for e in $ENGINES; do
	"$LOAD" -s 127.0.0.1:"$PORT" --engine "$e" -r 2000 -c 16 -t 0.5 --json > "$T/sc-$e.json" 2>/dev/null
done
if [ "$ENGINES" = "epoll uring" ]; then
	se=$(json_get "$T/sc-epoll.json" '$j->{generator}{syscalls_per_request}')
	su=$(json_get "$T/sc-uring.json" '$j->{generator}{syscalls_per_request}')
	diag "system calls per request, 16 connections, depth 1: epoll $se, uring $su"
	ok "$(perl -e 'print $ARGV[0] >= 1.5 ? 0 : 1' "$se")" "epoll: a send and a recv per request ($se calls)"
	ok "$(perl -e 'print $ARGV[0] < 1 ? 0 : 1' "$su")" "uring: under one system call per request ($su)"
else
	skips 2 "io_uring not available: $(cat "$T/probe.err")"
fi

# A server that dies mid-run: reported, not hung, exit status 1.
for e in $ENGINES; do
	start_memcached || { skips 3 "memcached did not start"; continue; }
	PIDS="$PIDS $MPID"
	( sleep 0.6; kill "$MPID" ) &
	start=$(date +%s)
	"$LOAD" -s 127.0.0.1:"$PORT" --engine "$e" -r 1000 -c 4 -t 3 --timeout 1 > "$T/die.out" 2> "$T/die.err"
	rc=$?
	is $rc 1 "$e: server killed mid-run: exit status 1"
	grep -q "server closed the connection\|Connection reset" "$T/die.err"
	ok $? "$e: server killed mid-run: the error says so"
	ok "$([ $(($(date +%s) - start)) -le 8 ] && echo 0 || echo 1)" "$e: server killed mid-run: no hang"
done

# Open loop from the scheduled send: a server stalling 20 ms every 100 ms.
if [ -x "$STALL" ]; then
	for e in $ENGINES; do
		"$STALL" --lifetime 20 --stall-every 100 --stall-for 20 > "$T/port" &
		PIDS="$PIDS $!"
		for _ in $(seq 1 30); do
			SP=$(awk '/^port/ {print $2}' "$T/port" 2>/dev/null)
			[ -n "$SP" ] && break
			sleep 0.1
		done
		"$LOAD" -s 127.0.0.1:"$SP" --engine "$e" --noload -q 10000 -c 4 -t 1.5 --json > "$T/st.json" 2>/dev/null
		corr=$(json_get "$T/st.json" '$j->{latency_us}{get}{corrected}{p99}')
		unc=$(json_get "$T/st.json" '$j->{latency_us}{get}{uncorrected}{p99}')
		diag "$e: stalling server: get p99 corrected $corr us, uncorrected $unc us"
		ok "$(perl -e 'print $ARGV[0] >= 10000 && $ARGV[1] < 10000 && $ARGV[1] * 4 <= $ARGV[0] ? 0 : 1' "$corr" "$unc")" \
			"$e: corrected p99 shows the 20 ms stall, uncorrected hides it"
		ok "$(json_get "$T/st.json" '$j->{qps} >= 9000 ? 0 : 1')" "$e: the schedule keeps its rate through stalls"
		rm -f "$T/port"
	done
else
	skips 4 "stall_server not built"
fi
done_testing
