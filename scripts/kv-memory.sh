#!/bin/sh
# kv-memory.sh [-m MB] [--memcached]: RSS of irqlab-kv (or Debian's
# memcached) against -m under the floods of issue 11 (scripts/kv-flood.pl),
# each on a fresh server on 127.0.0.1: 200 partial 1 MB values, 3000
# slowloris lines, 15 s of random-size sets; then 10,000 connections held
# (-c 11000; the server's and this script's RLIMIT_NOFILE must allow it).
# Prints VmHWM (peak RSS) and VmRSS after each flood, and the flood's line.
# Bounded: every flood has its time limit, the servers are killed by pid.
set -e
MB=64 SERVER=kv
while [ $# -gt 0 ]; do
	case $1 in
	-m) MB=$2; shift 2 ;;
	--memcached) SERVER=mc; shift ;;
	*) echo "usage: kv-memory.sh [-m MB] [--memcached]" >&2; exit 2 ;;
	esac
done
DIR=$(cd "$(dirname "$0")/.." && pwd)
FLOOD=$DIR/scripts/kv-flood.pl
PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport')
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null' EXIT INT TERM
ulimit -n 20000 2>/dev/null || true

start() {
	if [ $SERVER = kv ]; then
		"$DIR/build/irqlab-kv" -p "$PORT" -l 127.0.0.1 -t 2 -m "$MB" -c 11000 "$@" 2>/dev/null &
	else
		memcached -u nobody -p "$PORT" -l 127.0.0.1 -U 0 -t 2 -m "$MB" -c 11000 "$@" 2>/dev/null &
	fi
	PID=$!
	for _ in $(seq 50); do
		perl -MIO::Socket::INET -e "exit !IO::Socket::INET->new('127.0.0.1:$PORT')" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "kv-memory: server did not start" >&2; exit 1
}
mem() { awk '/^VmHWM|^VmRSS/ { printf "%s %d MB  ", $1, $2 / 1024 }' /proc/$PID/status; }
run() {	# run NAME FLOOD-ARGS...
	name=$1; shift
	start
	before=$(mem)
	line=$(timeout 300 perl "$FLOOD" "127.0.0.1:$PORT" "$@" | tr '\n' ' ')
	echo "$SERVER -m $MB $name: start: $before after: $(mem)"
	echo "    $line"
	kill $PID; wait $PID 2>/dev/null || true; PID=
}
run partial partial 200 3
run slowloris slowloris 3000 3
run randset randset 4 15
run hold10k hold 10000 5
