#!/bin/sh
# The hostage setup (tests/integration/hostage.sh) without the SIGSTOP: while
# irqlab-load's default preload (1M records, 64 deep on 16 connections)
# floods irqlab-kv, a probe gets from memcached, which shares the veth's
# NAPI, once per ms for 8 s. Prints the probe's stalls over 3 ms, the veth
# counters (drops), and the TCP counters of both namespaces (retransmits,
# tail loss probes, DSACKs, RTOs). docs/bench.md, "The hostage risk".
#   sudo sh scripts/hostage-busy.sh base|suspend [IRQ_SUSPEND_TIMEOUT] [THREADED 0|1] [BUILD]
IRQLAB_SRC=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:?usage: hostage-busy.sh base|suspend [20ms] [0|1] [build]}
TO=${2:-20ms}; THR=${3:-0}
IRQLAB_BUILD=$(cd "${4:-$IRQLAB_SRC/build}" && pwd)
. "$IRQLAB_SRC/tests/lib.sh"
. "$IRQLAB_SRC/tests/netns.sh"
KV=$IRQLAB_BUILD/irqlab-kv; LOAD=$IRQLAB_BUILD/irqlab-load
PROBE=$IRQLAB_BUILD/tests/helpers/hostage_probe
[ -x "$PROBE" ] || { echo "hostage-busy: $PROBE missing (make)" >&2; exit 1; }
T=$(mktemp -d)
netns_up || { echo "hostage-busy: cannot create the namespaces (root?)" >&2; exit 1; }
trap 'kill $KVP $MCP 2>/dev/null; sleep 0.3; netns_down; rm -rf "$T"' EXIT
in_srv sh -c 'echo $$ >"$0"; exec memcached -u nobody -t 1 -l "$1" -p 11212 -U 0 -m 16' \
	"$T/mc" "$SRV_IP" &
sleep 0.3
case $MODE in base) M=base ;; *) M="suspend,irq_suspend_timeout=$TO" ;; esac
if [ "$THR" = 1 ]; then	# threaded NAPI, kthread on the server's CPU
	srv "$IRQLAB_BUILD/irqlab" napi set --dev "$DEV_SRV" --threaded 1 >/dev/null
	for p in $(srv "$IRQLAB_BUILD/irqlab" napi list --dev "$DEV_SRV" --json |
		   sed -n 's/.*"pid": \([0-9]*\).*/\1/p'); do taskset -pc 1 "$p" >/dev/null; done
fi
in_srv sh -c 'echo $$ >"$0"; exec "$@"' "$T/kv" "$KV" -t 1 -p 11211 -l "$SRV_IP" \
	--cpus 1 --mode "$M" --dev "$DEV_SRV" 2>"$T/kv.err" &
sleep 0.5
MCP=$(cat "$T/mc"); KVP=$(cat "$T/kv")
links() {
	for side in "$NS_SRV $DEV_SRV" "$NS_CLI $DEV_CLI"; do
		set -- $side
		echo "$2: $(ip -n "$1" -s link show "$2" | awk '/RX:/ { getline; r = $4 } /TX:/ { getline; t = $4 } END { print "rx_dropped " r ", tx_dropped " t }')"
	done
}
ip netns exec "$NS_CLI" nstat -n; ip netns exec "$NS_SRV" nstat -n
in_cli "$LOAD" -s "$SRV_IP:11211" -c 16 -r 1000000 -t 1 --json >"$T/load" 2>"$T/load.err" &
LP=$!
in_cli "$PROBE" -s "$SRV_IP:11212" --duration 8 --stall-us 3000 >"$T/probe" 2>&1
wait $LP
grep -q "\"qps\"" "$T/load" || { echo "hostage-busy: the load failed: $(cat "$T/load.err")" >&2; exit 1; }
TCP='Retrans|Timeouts|LossProbes|DSACK|DelayedACK|Drop|OFO'
echo "== $MODE irq_suspend_timeout=$TO threaded=$THR"
tail -n 15 "$T/probe"
echo "-- veth"; links
echo "-- client TCP"; ip netns exec "$NS_CLI" nstat | grep -E "$TCP"
echo "-- server TCP"; ip netns exec "$NS_SRV" nstat | grep -E "$TCP"
