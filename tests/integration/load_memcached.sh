#!/bin/sh
# End to end: the gets, sets and misses irqlab-load counts (over the whole
# run: preload, warm-up, window, drain) equal the deltas of the server's own
# `stats` (cmd_get, cmd_set, get_misses), for Debian's memcached and for
# irqlab-kv, in closed and open loop, with and without preload.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd memcached
need_cmd perl
LOAD=$IRQLAB_BUILD/irqlab-load
[ -x "$LOAD" ] || skip_all "irqlab-load not built"
T=$(mktemp -d /tmp/irqlab-load-e2e.XXXXXX)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM

wait_port() {
	for _ in $(seq 1 30); do
		mc_counts "$1" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# agree NAME PORT irqlab-load-args...: one run, compared with the server
agree() {
	_name=$1; _port=$2; shift 2
	_b=$(mc_counts "$_port")
	"$LOAD" -s 127.0.0.1:"$_port" --json "$@" > "$T/run.json" 2> "$T/run.err"
	_rc=$?
	_a=$(mc_counts "$_port")
	ok $_rc "$_name: run succeeds"
	[ $_rc -eq 0 ] || { diag "$(cat "$T/run.err")"; return; }
	_mine=$(json_get "$T/run.json" 'join " ", map { $j->{totals}{$_} } qw(gets sets misses)')
	_theirs=$(perl -e '@b = split " ", $ARGV[0]; @a = split " ", $ARGV[1]; print join(" ", map { $a[$_] - $b[$_] } 0..2)' "$_b" "$_a")
	is "$_mine" "$_theirs" "$_name: gets sets misses ($_mine) match the server's stats deltas"
	_q=$(json_get "$T/run.json" '$j->{qps} > 0 && $j->{latency_us}{get}{corrected}{p50} > 0 && $j->{totals}{unanswered} == 0 && $j->{totals}{protocol_errors} == 0 && $j->{totals}{errors} == 0 ? 0 : 1')
	ok "$_q" "$_name: qps and latency reported, no errors, nothing lost"
	[ "$_q" = 0 ] || diag "$(json_get "$T/run.json" 'join "; ", @{$j->{warnings}}')"
}

run_suite() {	# run_suite NAME PORT
	agree "$1 closed loop with preload" "$2" -r 2000 -u 0.2 -T 2 -c 3 -d 2 -t 0.5
	# New key length: keys nobody set yet, so some gets miss.
	agree "$1 open loop, no preload" "$2" --noload -K 25 -r 500 -u 0.3 -q 4000 -c 2 -t 0.5
	_m=$(json_get "$T/run.json" '$j->{totals}{misses} > 0 ? 0 : 1'); ok "$_m" "$1: misses seen without preload"
	agree "$1 fb_key/fb_value, zipf, warm-up" "$2" -K fb_key -V fb_value -P zipf:0.99 -r 3000 -w 0.2 -t 0.5 -c 4
	agree "$1 meta protocol, misses and sets" "$2" --protocol meta -K 27 -V uniform:300 -r 1500 -u 0.3 --noload -d 3 -c 2 -t 0.5
}

PORT=$(free_port)
if [ "$(id -u)" -eq 0 ]; then U="-u nobody"; else U=; fi
memcached $U -l 127.0.0.1 -p "$PORT" -t 1 -U 0 -m 64 &
SPID=$!
wait_port "$PORT" || skip_all "memcached did not start on port $PORT"
run_suite memcached "$PORT"

# Two servers: keys are sharded (key % 2), so after the preload nothing
# misses and each server holds half the records; counts add up.
PORT2=$(free_port)
memcached $U -l 127.0.0.1 -p "$PORT2" -t 1 -U 0 -m 64 &
SPID2=$!
if wait_port "$PORT2"; then
	b1=$(mc_counts "$PORT"); b2=$(mc_counts "$PORT2")
	"$LOAD" -s 127.0.0.1:"$PORT" -s 127.0.0.1:"$PORT2" -T 2 -c 3 -K 33 -r 3000 -u 0.1 -t 0.5 --json > "$T/two.json" 2>/dev/null
	ok $? "two servers: run succeeds"
	a1=$(mc_counts "$PORT"); a2=$(mc_counts "$PORT2")
	theirs=$(perl -e '@b1 = split " ", $ARGV[0]; @a1 = split " ", $ARGV[1]; @b2 = split " ", $ARGV[2]; @a2 = split " ", $ARGV[3];
		print join(" ", map { $a1[$_] - $b1[$_] + $a2[$_] - $b2[$_] } 0..2)' "$b1" "$a1" "$b2" "$a2")
	is "$(json_get "$T/two.json" 'join " ", map { $j->{totals}{$_} } qw(gets sets misses)')" "$theirs" "two servers: counts equal the sum of both servers' deltas"
	is "$(json_get "$T/two.json" '$j->{totals}{misses}')" 0 "two servers: no misses after the sharded preload"
else
	skip "second memcached did not start"
fi
kill "$SPID2" 2>/dev/null; wait "$SPID2" 2>/dev/null
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=

KV=$IRQLAB_BUILD/irqlab-kv
if [ -x "$KV" ]; then
	PORT=$(free_port)
	# -m 1024: at the default 64 MB irqlab-kv answered some sets with
	# SERVER_ERROR out of memory (and counted them in cmd_set, which
	# memcached does not), see the LOAD report.
	"$KV" -l 127.0.0.1 -p "$PORT" -m 1024 > "$T/kv.log" 2>&1 &
	SPID=$!
	if wait_port "$PORT"; then
		run_suite irqlab-kv "$PORT"
	else
		skip "irqlab-kv did not answer 'stats' on -l 127.0.0.1 -p $PORT: $(head -1 "$T/kv.log")"
	fi
	kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
else
	skip "irqlab-kv not built yet ($KV absent)"
fi
done_testing
