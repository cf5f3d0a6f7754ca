#!/bin/bash
# irqlab-kv vs Debian memcached, same mode, same load generator, same run.
#   scripts/bench-kv.sh [--mode M] [--reps N] [--time S] [--conns N]
#                       [--depths "1 16"] [--records N] [--rss-items N]
#                       [--nice N] [--build DIR]
# 1. Closed-loop maximum QPS on the veth pair of tests/netns.sh: the server
#    (-t 1) pinned to CPU 1 in the server namespace, irqlab-load pinned to
#    CPU 0 in the client namespace, ETC key/value sizes, 3% sets, at each
#    pipeline depth of --depths (depth 1: the generator and the kernel
#    dominate; depth 16: the server's own work shows). Servers
#    alternate run by run (memcached, kv, memcached, kv, ...); medians of
#    --reps each. Also the server's CPU time per request (from
#    /proc/PID/stat), which does not depend on the generator keeping up.
#    memcached gets the mode through libirqlab-preload.so (IRQLAB_MODE,
#    IRQLAB_DEV); irqlab-kv through --mode/--dev.
# 2. Resident memory (VmRSS) after loading --rss-items ETC-sized items into
#    each (-m 4096: no eviction), on loopback.
# Needs root (namespaces). The machine is shared: servers and generator run
# at nice --nice (default -10, the same for both) to keep other work off
# them; the script prints the load average and the spread of the repeats;
# only the ratios mean much.
set -u
MODE=base REPS=3 TIME=3 CONNS=16 RECORDS=100000 RSS_ITEMS=1000000 DEPTHS="1 16" NICE=-10
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
while [ $# -gt 0 ]; do
	case $1 in
	--mode) MODE=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--time) TIME=$2; shift 2 ;;
	--conns) CONNS=$2; shift 2 ;;
	--depths) DEPTHS=$2; shift 2 ;;
	--nice) NICE=$2; shift 2 ;;
	--records) RECORDS=$2; shift 2 ;;
	--rss-items) RSS_ITEMS=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	-h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-kv: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
case $REPS in ''|*[!0-9]*|0) echo "bench-kv: --reps: '$REPS' is not in 1-99" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "bench-kv: needs root (network namespaces)" >&2; exit 1; }
KV=$BUILD/irqlab-kv LOAD=$BUILD/irqlab-load SHIM=$BUILD/libirqlab-preload.so
for b in "$KV" "$LOAD"; do [ -x "$b" ] || { echo "bench-kv: $b missing (make)" >&2; exit 1; }; done
command -v memcached >/dev/null || { echo "bench-kv: memcached missing (scripts/install-deps.sh)" >&2; exit 1; }
"$KV" --mode "$MODE" --help >/dev/null || exit 2

. "$SRC/tests/netns.sh"
T=$(mktemp -d)
# private copies: a rebuild of build/ during the run must not change them
cp "$KV" "$LOAD" "$T/" && KV=$T/irqlab-kv LOAD=$T/irqlab-load
[ -f "$SHIM" ] && cp "$SHIM" "$T/" && SHIM=$T/libirqlab-preload.so
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; netns_down; rm -rf "$T"; }
netns_up || { echo "bench-kv: could not build the veth topology" >&2; cleanup; exit 1; }
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM
PORT=11211
# ip, taskset and env exec the server, so $! is the server's own pid
SRV="ip netns exec $NS_SRV nice -n $NICE taskset -c 1"
CLI="ip netns exec $NS_CLI nice -n $NICE taskset -c 0"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
user_ticks() { awk '{ print $14 }' "/proc/$1/stat"; }

start_server() {	# start_server mc|kv [extra env]
	if [ "$1" = mc ]; then
		if [ "$MODE" = base ]; then
			$SRV memcached -u nobody -U 0 -t 1 -m 1024 -c 4096 -l "$SRV_IP" -p $PORT &
		else
			$SRV env IRQLAB_MODE="$MODE" IRQLAB_DEV="$DEV_SRV" LD_PRELOAD="$SHIM" \
				memcached -u nobody -U 0 -t 1 -m 1024 -c 4096 -l "$SRV_IP" -p $PORT &
		fi
	else
		$SRV "$KV" -t 1 --cpus 1 -m 1024 -c 4096 -l "$SRV_IP" -p $PORT \
			--mode "$MODE" --dev "$DEV_SRV" 2>"$T/kv.err" &
	fi
	SPID=$!
	for _ in $(seq 50); do
		in_cli perl -MIO::Socket::INET -e "exit !IO::Socket::INET->new('$SRV_IP:$PORT')" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench-kv: $1 did not start" >&2; cat "$T/kv.err" >&2; return 1
}

stop_server() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=; sleep 0.3; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s..%s", lo, hi }'; }

echo "bench-kv: $(date -u '+%Y-%m-%d %H:%M UTC'), mode $MODE, $REPS reps x ${TIME}s, $CONNS connections, depths $DEPTHS, $RECORDS records"
echo "bench-kv: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
HZ=$(getconf CLK_TCK)
per_req() { awk -v c="$1" -v hz="$HZ" -v q="$2" -v t="$TIME" 'BEGIN { printf "%.2f", c / hz * 1e6 / (q * t) }'; }
for rep in $(seq "$REPS"); do
	for d in $DEPTHS; do
		for s in mc kv; do
			start_server $s || exit 1
			in_cli "$LOAD" -s "$SRV_IP:$PORT" -K fb_key -V fb_value -r "$RECORDS" --loadonly >/dev/null 2>&1
			c0=$(cpu_ticks "$SPID") u0=$(user_ticks "$SPID")
			$CLI "$LOAD" -s "$SRV_IP:$PORT" -K fb_key -V fb_value -r "$RECORDS" --noload \
				-c "$CONNS" -d "$d" -t "$TIME" -u 0.03 >"$T/run.out" 2>&1
			c1=$(cpu_ticks "$SPID") u1=$(user_ticks "$SPID")
			q=$(sed -n 's/^Total QPS = \([0-9.]*\).*/\1/p' "$T/run.out")
			[ -n "$q" ] || { echo "bench-kv: no QPS from irqlab-load:"; cat "$T/run.out"; exit 1; }
			us=$(per_req $((c1 - c0)) "$q") uu=$(per_req $((u1 - u0)) "$q")
			echo "$q" >>"$T/qps.$s.$d"
			echo "$us" >>"$T/cpu.$s.$d"
			echo "$uu" >>"$T/user.$s.$d"
			printf 'bench-kv: rep %d depth %-2d %-9s %9.0f QPS  %6s us server CPU/request (%s us user)\n' \
				"$rep" "$d" "$([ $s = mc ] && echo memcached || echo irqlab-kv)" "$q" "$us" "$uu"
			stop_server
		done
	done
done
echo "bench-kv: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for d in $DEPTHS; do
	MQ=$(median <"$T/qps.mc.$d") KQ=$(median <"$T/qps.kv.$d")
	MC=$(median <"$T/cpu.mc.$d") KC=$(median <"$T/cpu.kv.$d")
	MU=$(median <"$T/user.mc.$d") KU=$(median <"$T/user.kv.$d")
	printf 'bench-kv: depth %-2d QPS median      memcached %.0f (%s)  irqlab-kv %.0f (%s)  ratio kv/memcached %.2f\n' \
		"$d" "$MQ" "$(spread <"$T/qps.mc.$d")" "$KQ" "$(spread <"$T/qps.kv.$d")" "$(echo "$KQ $MQ" | awk '{ print $1 / $2 }')"
	printf 'bench-kv: depth %-2d CPU/request     memcached %s us (%s)  irqlab-kv %s us (%s)  ratio memcached/kv %.2f\n' \
		"$d" "$MC" "$(spread <"$T/cpu.mc.$d")" "$KC" "$(spread <"$T/cpu.kv.$d")" "$(echo "$MC $KC" | awk '{ print $1 / $2 }')"
	printf 'bench-kv: depth %-2d user CPU/request memcached %s us (%s)  irqlab-kv %s us (%s)\n' \
		"$d" "$MU" "$(spread <"$T/user.mc.$d")" "$KU" "$(spread <"$T/user.kv.$d")"
done

# resident memory after the same items, loopback in the server namespace
[ "$RSS_ITEMS" -gt 0 ] || exit 0
for s in mc kv; do
	if [ $s = mc ]; then
		$SRV memcached -u nobody -U 0 -t 1 -m 4096 -l 127.0.0.1 -p $PORT &
	else
		$SRV "$KV" -t 1 -m 4096 -l 127.0.0.1 -p $PORT 2>/dev/null &
	fi
	SPID=$!
	sleep 0.5
	ip netns exec "$NS_SRV" "$LOAD" -s "127.0.0.1:$PORT" -K fb_key -V fb_value -r "$RSS_ITEMS" --loadonly >/dev/null 2>&1
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SPID/status")
	echo "$rss" >"$T/rss.$s"
	printf 'bench-kv: RSS after %d ETC items: %-9s %d kB\n' "$RSS_ITEMS" \
		"$([ $s = mc ] && echo memcached || echo irqlab-kv)" "$rss"
	stop_server
done
printf 'bench-kv: RSS ratio kv/memcached %.3f\n' "$(echo "$(cat "$T/rss.kv") $(cat "$T/rss.mc")" | awk '{ print $1 / $2 }')"
