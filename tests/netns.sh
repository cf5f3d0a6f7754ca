# Two network namespaces joined by a veth pair, set up so TCP takes the NAPI
# path (testbed.md): GRO on both ends gives each veth a NAPI; TSO/GSO off on
# the sending ends makes packets arrive one by one through that NAPI.
# Addresses come from 198.18.0.0/15, the range reserved for benchmarking.
#
#   . tests/netns.sh; netns_up      # sets NS_SRV NS_CLI DEV_SRV DEV_CLI SRV_IP
#   ip netns exec "$NS_SRV" ...     # run the server
#   netns_down                      # also runs on EXIT/INT/TERM via trap
NS_SRV=ils$$
NS_CLI=ilc$$
DEV_SRV=ilvs$$
DEV_CLI=ilvc$$
SRV_IP=198.18.0.1
CLI_IP=198.18.0.2

netns_down() {
	ip netns del "$NS_SRV" 2>/dev/null
	ip netns del "$NS_CLI" 2>/dev/null
	return 0
}

netns_up() {
	trap 'netns_down' EXIT
	trap 'netns_down; exit 130' INT TERM
	ip netns add "$NS_SRV" && ip netns add "$NS_CLI" &&
	ip link add "$DEV_SRV" netns "$NS_SRV" type veth peer name "$DEV_CLI" netns "$NS_CLI" &&
	ip -n "$NS_SRV" addr add "$SRV_IP/24" dev "$DEV_SRV" &&
	ip -n "$NS_CLI" addr add "$CLI_IP/24" dev "$DEV_CLI" &&
	ip -n "$NS_SRV" link set lo up && ip -n "$NS_CLI" link set lo up &&
	ip -n "$NS_SRV" link set "$DEV_SRV" up && ip -n "$NS_CLI" link set "$DEV_CLI" up &&
	ip netns exec "$NS_SRV" ethtool -K "$DEV_SRV" gro on tso off gso off >/dev/null &&
	ip netns exec "$NS_CLI" ethtool -K "$DEV_CLI" gro on tso off gso off >/dev/null
}

# Runs a command in the server namespace pinned to CPU $SRV_CPU (default 1).
in_srv() { ip netns exec "$NS_SRV" taskset -c "${SRV_CPU:-1}" "$@"; }
in_cli() { ip netns exec "$NS_CLI" taskset -c "${CLI_CPU:-0}" "$@"; }

# TcpExt BusyPollRxPackets of a namespace (the counter is per namespace).
busy_polled() {
	ip netns exec "$1" awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] == "BusyPollRxPackets") print v[i] } }' /proc/net/netstat
}

# NET_RX softirqs on one CPU (not per namespace).
net_rx_on_cpu() { awk -v c=$(($1 + 2)) '/NET_RX/ { print $c }' /proc/softirqs; }

# napi_field NAME: that field of the first NAPI of the server veth, as
# `irqlab napi list --json` reports it; napi_settings: defer/gro/suspend.
napi_field() {
	ip netns exec "$NS_SRV" "$IRQLAB_BUILD/irqlab" napi list --dev "$DEV_SRV" --json |
		sed -n "s/.*\"$1\": \([0-9-]*\).*/\1/p" | head -n 1
}
napi_settings() {
	echo "$(napi_field defer_hard_irqs)/$(napi_field gro_flush_timeout_ns)/$(napi_field irq_suspend_timeout_ns)"
}

# netns_world: what every NAPI test needs first: root, ip and ethtool, the
# veth pair up (else skip with the reason), IRQLAB set.
netns_world() {
	need_root
	need_cmd ip
	need_cmd ethtool
	netns_up || skip_all "cannot create network namespaces and a veth pair"
	IRQLAB=$IRQLAB_BUILD/irqlab
}
srv() { ip netns exec "$NS_SRV" "$@"; }

# supports KEY [VALUE]: whether `irqlab probe --json` in the server namespace
# says "KEY": VALUE (default true; KEY napi_set, irq_suspend, threaded_attr..).
supports() { srv "$IRQLAB" probe --json | grep -q "\"$1\": ${2:-true}"; }

# need_feature KEY REASON: skip the whole test unless supports KEY.
need_feature() { supports "$1" || skip_all "$2"; }
