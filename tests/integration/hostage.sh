#!/bin/sh
# The hostage risk of IRQ suspend, measured (docs/bench.md, "The hostage
# risk"). A plain server, Debian's memcached -t 1, shares the veth's only
# NAPI with irqlab-kv in suspend mode with a short irq_suspend_timeout
# (20 ms), both on CPU 1. Under a closed-loop load on irqlab-kv, a probe
# sends memcached one get per ms (latency from the scheduled send time)
# and stops irqlab-kv with SIGSTOP for 500 ms, then SIGCONT.
#
# Asserted:
# - irqlab-kv warns at start that memcached's socket may share the NAPI;
# - during the stop memcached keeps answering and its worst wait is bounded
#   by irq_suspend_timeout plus noise, never the whole stop: under
#   $BOUND_MS (default 150 ms; the stop is 500 ms). The margin is wide
#   because this 2-core machine is shared: the probe alone, with irqlab-kv
#   in base and no load, sees stalls of 5-45 ms from other work. A stall
#   is retried once (a fresh setup) before it fails;
# - back to normal after SIGCONT: the probe's median from 50 ms after the
#   SIGCONT is under 5 ms, and irqlab-kv answers the load again.
# Needs root, namespaces, memcached, Linux 6.13 (irq_suspend_timeout).
# About 15 s (30 s with the retry).
. "$IRQLAB_SRC/tests/lib.sh"
need_root
need_cmd ip
need_cmd ethtool
need_cmd taskset
need_cmd memcached
. "$IRQLAB_SRC/tests/netns.sh"
IRQLAB=$IRQLAB_BUILD/irqlab
KV=$IRQLAB_BUILD/irqlab-kv
LOAD=$IRQLAB_BUILD/irqlab-load
PROBE=$IRQLAB_BUILD/tests/helpers/hostage_probe
BOUND_MS=${BOUND_MS:-150}
[ -x "$PROBE" ] || skip_all "needs $PROBE (make)"
[ "$(nproc)" -ge 2 ] || skip_all "needs 2 CPUs (servers on CPU 1, load and probe on CPU 0)"
TMP=$(mktemp -d)
KVPID=
MCPID=
stop_servers() {
	[ -n "$KVPID" ] && kill -CONT "$KVPID" 2>/dev/null && kill -TERM "$KVPID" 2>/dev/null
	[ -n "$MCPID" ] && kill -TERM "$MCPID" 2>/dev/null
	_i=0
	while { kill -0 "$KVPID" || kill -0 "$MCPID"; } 2>/dev/null && [ $_i -lt 40 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ -n "$KVPID" ] && kill -KILL "$KVPID" 2>/dev/null
	[ -n "$MCPID" ] && kill -KILL "$MCPID" 2>/dev/null
	KVPID=; MCPID=
	return 0
}
cleanup() { stop_servers; rm -rf "$TMP"; netns_down; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# spawn PIDFILE CMD...: runs CMD in the server namespace on CPU 1; the pid
# file gets the server's own pid (ip netns exec forks).
spawn() {
	_pf=$1; shift
	in_srv sh -c 'echo $$ >"$0"; exec "$@"' "$_pf" "$@" &
}
waitpid_file() { _i=0; while [ ! -s "$1" ] && [ $_i -lt 100 ]; do sleep 0.02; _i=$((_i + 1)); done; cat "$1" 2>/dev/null; }
answers() {	# answers PORT: a get to SRV_IP:PORT from the client namespace gets END
	ip netns exec "$NS_CLI" timeout 3 bash -c \
		'exec 3<>/dev/tcp/$0/$1 || exit 1; printf "get nokey\r\nquit\r\n" >&3; cat <&3' \
		"$SRV_IP" "$1" 2>/dev/null | tr -d '\r' | grep -q '^END$'
}
val() { sed -n "s/.*\<$1=\([0-9.]*\).*/\1/p" "$2" | head -n 1; }

# one_run N: a fresh namespace pair, both servers, load, probe with the
# stop. Leaves its files in $TMP/N.*; fails only when the setup fails.
one_run() {
	_n=$1
	netns_up || return 1
	spawn "$TMP/$_n.mcpid" memcached -u nobody -t 1 -l "$SRV_IP" -p 11212 -U 0 -m 16
	MCPID=$(waitpid_file "$TMP/$_n.mcpid")
	_i=0; until answers 11212 || [ $_i -ge 50 ]; do sleep 0.05; _i=$((_i + 1)); done
	spawn "$TMP/$_n.kvpid" "$KV" -t 1 -p 11211 -l "$SRV_IP" --cpus 1 \
		--mode suspend,irq_suspend_timeout=20ms --dev "$DEV_SRV" 2>"$TMP/$_n.kv.err"
	KVPID=$(waitpid_file "$TMP/$_n.kvpid")
	_i=0; until answers 11211 || [ $_i -ge 50 ]; do sleep 0.05; _i=$((_i + 1)); done
	answers 11211 && answers 11212 || return 1
	in_cli "$LOAD" -s "$SRV_IP:11211" -c 16 -r 1000 -t 3 --json >"$TMP/$_n.load" 2>"$TMP/$_n.load.err" &
	_lp=$!
	sleep 0.5
	in_cli "$PROBE" -s "$SRV_IP:11212" --duration 2.2 --stop "$KVPID" --stop-at 1 --stop-for 0.5 \
		--stall-us 3000 >"$TMP/$_n.probe" 2>&1
	echo "rc=$?" >>"$TMP/$_n.probe"
	wait "$_lp"
	stop_servers
	netns_down
	return 0
}

netns_up || skip_all "cannot create network namespaces and a veth pair"
need_feature irq_suspend "kernel lacks irq_suspend_timeout (needs Linux 6.13)"
netns_down

run=1
one_run 1 || { diag "$(cat "$TMP/1.kv.err" 2>/dev/null)"; ok 1 "both servers started in the namespace"; done_testing; }
ok 0 "irqlab-kv (suspend, irq_suspend_timeout=20ms) and memcached answer on one veth NAPI"
grep -q "other socket(s) may receive through $DEV_SRV's NAPI (memcached" "$TMP/1.kv.err"
ok $? "irqlab-kv warns that memcached's socket may share the NAPI"
# first_ok: the first run's probe met every bound below (else one retry)
first_ok() {
	grep -q '^rc=0' "$TMP/1.probe" &&
	[ "$(val stopped_max_us "$TMP/1.probe" | cut -d. -f1)" -lt $((BOUND_MS * 1000)) ] &&
	[ "$(val after_p50_us "$TMP/1.probe" | cut -d. -f1)" -lt 5000 ]
} 2>/dev/null
first_ok || {
	diag "first run: $(grep -vE '^stall' "$TMP/1.probe" | tr '\n' ' ')"
	diag "retrying once on a fresh setup (noise on a shared machine)"
	run=2
	one_run 2 || true
}
P=$TMP/$run.probe
diag "probe (run $run): $(grep -vE '^stall' "$P" | tr '\n' ' ')"
diag "stalls over 3 ms: $(grep -c '^stall' "$P"); during the stop: $(awk '/^stall/ { split($2, a, "="); if (a[2] >= 1000 && a[2] < 1500) printf "%s ", $3 }' "$P")"
grep -q '^rc=0' "$P"
ok $? "memcached answered every probe, during the stop too (no 2 s wait)"
smax=$(val stopped_max_us "$P")
[ -n "$smax" ] && [ "${smax%.*}" -lt $((BOUND_MS * 1000)) ]
ok $? "during the 500 ms SIGSTOP memcached's worst wait ${smax:-?} us < ${BOUND_MS} ms (irq_suspend_timeout 20 ms + noise), never the whole stop"
amed=$(val after_p50_us "$P")
[ -n "$amed" ] && [ "${amed%.*}" -lt 5000 ]
ok $? "after SIGCONT memcached's median latency ${amed:-?} us < 5 ms"
reqs=$(sed -n 's/.*"requests": {"gets": \([0-9]*\), "sets": \([0-9]*\).*/\1 \2/p' "$TMP/$run.load" | awk '{ print $1 + $2 }')
[ "${reqs:-0}" -gt 0 ]
ok $? "irqlab-kv served the load around the stop (${reqs:-0} requests)"
done_testing
