#!/bin/sh
# irqlab napi set --hold restores the old values on SIGTERM and SIGINT
# (sigwait path) and on SIGHUP (the library's signal handler, which then
# dies of the signal), and a rejected change is rolled back.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
. "$IRQLAB_SRC/tests/netns.sh"
netns_world
OUT=$(mktemp)
trap 'rm -f "$OUT"; netns_down' EXIT
settings() { echo "$(napi_settings)/$(napi_field threaded)"; }
need_feature napi_set "kernel lacks napi-set (needs Linux 6.13)"
threaded=0
supports threaded_attr && threaded=1

# Start from non-default values so "restored" cannot mean "reset to 0".
srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 3 --gro-flush-timeout 7us \
	--irq-suspend-timeout 0 >/dev/null
orig=$(settings)
is "$orig" "3/7000/0/0" "starting values set"

# hold SIGNAL: runs set --hold, waits until it holds, signals it.
hold() {
	# Not through srv(): ip netns exec execs irqlab, so the signal reaches it.
	hold_start "$OUT" ip netns exec "$NS_SRV" "$IRQLAB" napi set --dev "$DEV_SRV" \
		--mode suspend --threaded $threaded --hold
	_pid=$HOLD_PID
	HELD=$(settings)
	kill -"$1" $_pid
	wait $_pid 2>/dev/null
	RC=$?
}

for sig in TERM INT; do
	hold $sig
	is "$HELD" "100/20000/20000000/$threaded" "SIG$sig: values applied while holding"
	is "$RC" 0 "SIG$sig: --hold exits 0 after restoring"
	is "$(settings)" "$orig" "SIG$sig: original values restored"
	grep -q "^restored after SIG$sig" "$OUT"
	ok $? "SIG$sig: output says what was restored"
	grep -q "^restored napi .*defer_hard_irqs 3, gro_flush_timeout 7us" "$OUT"
	ok $? "SIG$sig: restored values printed as read back"
done

# SIGHUP is not waited for: the library's handler restores, then the
# process dies of SIGHUP (status 129).
hold HUP
is "$HELD" "100/20000/20000000/$threaded" "SIGHUP: values applied while holding"
is "$RC" 129 "SIGHUP: process died of the signal after the handler"
is "$(settings)" "$orig" "SIGHUP: original values restored by the signal handler"
if [ $threaded = 1 ]; then
	is "$(napi_field pid)" -1 "no kthread left behind"
else
	skip "per-NAPI threaded needs Linux 6.17"
fi

# A change this kernel cannot take (threaded=2 before Linux 6.19) is
# refused as a whole: defer_hard_irqs in the same command stays untouched.
if supports threaded_busy_poll false && [ $threaded = 1 ]; then
	srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 50 --threaded 2 >/dev/null 2>&1
	ok $([ $? -eq 1 ]; echo $?) "refused set exits 1"
	is "$(settings)" "$orig" "refused set changed nothing"
else
	skip "needs a kernel that refuses threaded=2"
	skip "needs a kernel that refuses threaded=2"
fi
# A device with two NAPIs (a veth with two rx queues): every NAPI is set
# and every NAPI restored.
MQ=ilmq$$
if srv ip link add "${MQ}a" numrxqueues 2 numtxqueues 2 type veth peer name "${MQ}b" \
	numrxqueues 2 numtxqueues 2 && srv ip link set "${MQ}a" up &&
	srv ip link set "${MQ}b" up && srv ethtool -K "${MQ}a" gro on >/dev/null; then
	all() {	# defer/gro of every NAPI of the device, sorted
		srv "$IRQLAB" napi list --dev "${MQ}a" --json |
			sed -n 's/.*"defer_hard_irqs": \([0-9]*\), "gro_flush_timeout_ns": \([0-9]*\).*/\1\/\2/p' |
			sort | tr '\n' ' '
	}
	before=$(all)
	is "$(echo $before | wc -w)" 2 "two-queue veth has two NAPIs"
	hold_start "$OUT" ip netns exec "$NS_SRV" "$IRQLAB" napi set --dev "${MQ}a" --mode defer --hold
	_pid=$HOLD_PID
	is "$(all)" "100/20000 100/20000 " "both NAPIs set while holding"
	kill -TERM $_pid
	wait $_pid 2>/dev/null
	is "$(all)" "$before" "both NAPIs restored after SIGTERM"
	is "$(grep -c '^restored napi' "$OUT")" 2 "two restored lines printed"
else
	skip "cannot create a two-queue veth"
	skip "cannot create a two-queue veth"
	skip "cannot create a two-queue veth"
	skip "cannot create a two-queue veth"
fi
done_testing
