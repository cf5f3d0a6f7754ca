#!/bin/sh
# The restore guarantee: every NAPI value a program changed is back after it
# ends by SIGTERM, SIGINT, SIGHUP, SIGKILL or SIGSTOP then SIGKILL, for
# irqlab-kv --dev, `irqlab napi set --hold` and memcached under the preload
# shim (all three through the library's restore guard, lib/guard.c); and
# what `irqlab bench` cleans up (its namespaces and servers) after the same.
. "$IRQLAB_SRC/tests/lib.sh"
. "$IRQLAB_SRC/tests/netns.sh"
netns_world
KV=$IRQLAB_BUILD/irqlab-kv
SHIM=$IRQLAB_BUILD/libirqlab-preload.so
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	for ns in $(ip netns list | awk '/^irqlab-[sc][0-9]/ { print $1 }'); do
		case " $BENCH_NS " in *" $ns "*)
			ip netns pids "$ns" | xargs -r kill -KILL
			ip netns del "$ns" ;;
		esac
	done
	rm -rf "$T"
	netns_down
}
trap cleanup EXIT
need_feature napi_set "kernel lacks napi-set (needs Linux 6.13)"
SUSPEND=100/20000/20000000

# Values no mode uses, so "restored" cannot mean "reset to 0".
srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 3 --gro-flush-timeout 7us \
	--irq-suspend-timeout 1ms >/dev/null
ORIG=$(napi_settings)
is "$ORIG" "3/7000/1000000" "distinctive starting values set"

# until N CMD...: polls CMD every 50 ms, at most N times.
until_ok() {
	_n=$1; shift
	while [ "$_n" -gt 0 ]; do "$@" && return 0; sleep 0.05; _n=$((_n - 1)); done
	return 1
}
applied() { [ "$(napi_settings)" = "$SUSPEND" ]; }
restored() { [ "$(napi_settings)" = "$ORIG" ]; }

# end SIG: STOP-KILL or a signal name; waits until the process is gone.
end() {
	if [ "$1" = STOP-KILL ]; then
		kill -STOP "$PID"; sleep 0.1; kill -KILL "$PID"
	else
		kill -"$1" "$PID"
	fi
	until_ok 100 sh -c "! kill -0 $PID 2>/dev/null"
	wait "$PID" 2>/dev/null
	PID=
}

# guarded NAME SIG CMD...: starts CMD in the server namespace (it applies
# mode suspend), ends it with SIG, checks the values came back (the guard
# restores within milliseconds after a kill; allow 5 s on a busy machine).
guarded() {
	_name=$1 _sig=$2; shift 2
	ip netns exec "$NS_SRV" "$@" >"$T/out" 2>"$T/err" &
	PID=$!
	if ! until_ok 100 applied; then
		ok 1 "$_name: applies suspend ($(napi_settings)): $(head -c 300 "$T/err")"
		kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=
		until_ok 100 restored
		return
	fi
	end "$_sig"
	until_ok 100 restored
	is "$(napi_settings)" "$ORIG" "$_name: every NAPI value back after $_sig"
}

SIGS="TERM INT HUP KILL STOP-KILL"
PORT=11400
for sig in $SIGS; do
	PORT=$((PORT + 1))
	guarded "irqlab-kv --dev" $sig "$KV" -l "$SRV_IP" -p $PORT --mode suspend \
		--dev "$DEV_SRV" -t 1
done
for sig in $SIGS; do
	guarded "irqlab napi set --hold" $sig "$IRQLAB" napi set --dev "$DEV_SRV" \
		--mode suspend --hold
done

if [ -f "$SHIM" ] && command -v memcached >/dev/null 2>&1; then
	for sig in $SIGS; do
		PORT=$((PORT + 1))
		[ $sig = HUP ] && continue	# below: memcached survives SIGHUP
		guarded "memcached under the shim" $sig env IRQLAB_MODE=suspend \
			IRQLAB_DEV="$DEV_SRV" LD_PRELOAD="$SHIM" \
			memcached -u nobody -t 1 -U 0 -l "$SRV_IP" -p $PORT
	done
	# memcached 1.6.18 handles SIGHUP itself and keeps serving: the
	# settings must stay while it runs, and go when it ends.
	PORT=$((PORT + 1))
	ip netns exec "$NS_SRV" env IRQLAB_MODE=suspend IRQLAB_DEV="$DEV_SRV" \
		LD_PRELOAD="$SHIM" memcached -u nobody -t 1 -U 0 -l "$SRV_IP" -p $PORT \
		2>"$T/err" &
	PID=$!
	until_ok 100 applied
	kill -HUP "$PID"; sleep 0.3
	kill -0 "$PID" 2>/dev/null && applied
	ok $? "memcached under the shim: survives SIGHUP with the settings still applied"
	end TERM
	until_ok 100 restored
	is "$(napi_settings)" "$ORIG" "memcached under the shim: every NAPI value back after SIGHUP, then SIGTERM"
else
	for i in 1 2 3 4 5 6; do skip "needs memcached and $SHIM"; done
fi

# irqlab bench builds its own namespaces and veth (irqlab-s<pid>,
# irqlab-c<pid>) and runs irqlab-kv --dev there. It records "ip netns del"
# (and the threaded NAPI value) with the restore guard before each change:
# on SIGTERM/SIGINT/SIGHUP its loops stop and it cleans up itself; after
# SIGKILL or SIGSTOP+SIGKILL the guard deletes the namespaces, and the
# server in them dies with bench (PR_SET_PDEATHSIG).
BENCH_NS=
bench_left() {	# namespaces of bench $1 that still exist
	ip netns list | awk -v p="$1" '$1 == "irqlab-s" p || $1 == "irqlab-c" p { print $1 }'
}
for sig in $SIGS; do
	"$IRQLAB" bench --modes suspend --time 5 --warmup 0 --reps 1 --points none \
		--records 1000 --no-plots -o "$T/bench-$sig" >"$T/bench.out" 2>&1 &
	PID=$!
	bpid=$PID
	BENCH_NS="$BENCH_NS irqlab-s$bpid irqlab-c$bpid"
	# running: its server has applied suspend inside bench's namespace
	until_ok 300 sh -c "ip netns exec irqlab-s$bpid '$IRQLAB' napi list --json 2>/dev/null |
		grep -q '\"defer_hard_irqs\": 100,'"
	_up=$?
	end "$sig"
	until_ok 200 sh -c "[ -z \"\$(ip netns list | grep -E '^irqlab-[sc]$bpid( |\$)')\" ]"
	left=$(bench_left $bpid | tr '\n' ' ')
	_name="irqlab bench: namespaces and servers gone after $sig${left:+ (left: $left)}"
	if [ $_up -ne 0 ]; then
		ok 1 "irqlab bench: reached the measurement before $sig: $(tail -n 3 "$T/bench.out")"
	else
		[ -z "$left" ]
		ok $? "$_name"
	fi
done
done_testing
