#!/bin/sh
# irqlab nic on a veth pair in a private network namespace: veth has no
# interrupt coalescing (the issue's sentence), but rx/tx channels (ethtool
# -L) and per-queue RPS; no IRQs. Channels and RPS are set with --hold and
# restored on SIGTERM and, by the restore guard, after SIGKILL; a case that
# cannot be applied whole is rolled back.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_root
need_cmd ip
need_cmd ethtool	# the restore guard undoes ethtool settings with it
IRQLAB=$IRQLAB_BUILD/irqlab
NS=ilnicv$$
VA=ilva$$
OUT=$(mktemp)
trap 'rm -f "$OUT"; ip netns del "$NS" 2>/dev/null' EXIT
ip netns add "$NS" 2>/dev/null || skip_all "cannot create a network namespace"
# Two rx and tx queues possible (and in use): room for --queues 2.
ip -n "$NS" link add "$VA" numrxqueues 2 numtxqueues 2 type veth peer name "${VA}p" \
	numrxqueues 2 numtxqueues 2 2>/dev/null || skip_all "cannot create a veth pair"
in_ns() { ip netns exec "$NS" "$@"; }
# One queue of two in use, set permanently with irqlab itself.
in_ns "$IRQLAB" nic set --dev "$VA" --rx-queues 1 --tx-queues 1 >"$OUT" 2>&1
ok $? "permanent set of 1 rx and 1 tx channel"
grep -q "^  ethtool -L $VA rx 2 tx 2" "$OUT"
ok $? "its undo command is printed"
json() { in_ns "$IRQLAB" nic show --dev "$VA" --json; }
rps() { in_ns cat /sys/class/net/$VA/queues/rx-$1/rps_cpus 2>/dev/null | tr -d '\n'; }
rps_on=1
rps 0 | grep -q '[0-9a-f]' || rps_on=0

in_ns "$IRQLAB" nic set --dev "$VA" --coalesce off >"$OUT" 2>&1
is "$?" 1 "--coalesce off on veth exits 1"
grep -q "^irqlab nic set: $VA does not support interrupt coalescing (ethtool -C): the adaptive and no-coalescing cases cannot be applied$" "$OUT"
ok $? "the unsupported sentence, word for word"
json | grep -q '"coalesce": null, "channels": {"rx": 1, "tx": 1, "rx-max": 2, "tx-max": 2}'
ok $? "show: no coalescing, channels rx/tx 1 of 2"

in_ns "$IRQLAB" probe --dev "$VA" --json | grep -q '"nic": {"dev": "'"$VA"'", "driver": {"name": "veth", "version": "[^"]*", "firmware": "", "bus_info": ""}, "coalesce": null, "channels": {"rx": 1,'
ok $? "probe --json shows the NIC settings and its driver too"
in_ns "$IRQLAB" nic show --dev "$VA" | grep -q "^  driver    veth version $(in_ns ethtool -i "$VA" | sed -n 's/^version: //p') firmware - bus -$"
ok $? "show: the driver line as ethtool -i has it (veth)"

in_ns "$IRQLAB" nic set --dev "$VA" --queues 3 >"$OUT" 2>&1
is "$?" 1 "--queues above the maximum exits 1"
grep -q "$VA has at most 2 rx channels, 3 asked" "$OUT"
ok $? "the maximum in words"
in_ns "$IRQLAB" nic set --dev "$VA" --combined 1 >"$OUT" 2>&1
grep -q "$VA does not support combined (ethtool -L $VA combined)" "$OUT"
ok $? "combined channels on veth refused in words"

# Start RPS from a non-default value so "restored" cannot mean "reset".
[ $rps_on = 1 ] && in_ns sh -c "echo 1 > /sys/class/net/$VA/queues/rx-0/rps_cpus"
# (hold_start empties the output first: an old 'holding' cannot end the wait.)
hold_start "$OUT" ip netns exec "$NS" "$IRQLAB" nic set --dev "$VA" --queues 2 --rps off --hold
pid=$HOLD_PID
json | grep -q '"channels": {"rx": 2, "tx": 2,'
ok $? "held: 2 rx and 2 tx channels"
in_ns ethtool -l "$VA" | sed -n '/Current/,$p' | grep -q '^RX:[[:space:]]*2'
ok $? "ethtool -l agrees"
if [ $rps_on = 1 ]; then
	ok $([ "$(rps 0)" = 0 ] && [ "$(rps 1)" = 0 ]; echo $?) "held: RPS off on both rx queues"
else
	skip "kernel without RPS"
fi
kill -TERM $pid
wait $pid
is "$?" 0 "SIGTERM: exits 0"
json | grep -q '"channels": {"rx": 1, "tx": 1,'
ok $? "SIGTERM: 1 rx and 1 tx channel again"
if [ $rps_on = 1 ]; then
	is "$(rps 0)" 1 "SIGTERM: RPS of rx-0 restored"
else
	skip "kernel without RPS"
fi

# SIGKILL: the guard runs "ethtool -L VA rx 1 tx 1" and writes rps_cpus
# back, newest first.
# (hold_start empties the output first: an old 'holding' cannot end the wait.)
hold_start "$OUT" ip netns exec "$NS" "$IRQLAB" nic set --dev "$VA" --queues 2 --rps off --hold
pid=$HOLD_PID
json | grep -q '"channels": {"rx": 2, "tx": 2,'
ok $? "held again: 2 channels"
kill -KILL $pid
wait $pid 2>/dev/null	# (not the shell's "Killed" in the test log)
is "$?" 137 "SIGKILL: killed"
i=0
until json | grep -q '"channels": {"rx": 1, "tx": 1,' || [ $i -ge 100 ]; do
	sleep 0.05; i=$((i + 1))
done
json | grep -q '"channels": {"rx": 1, "tx": 1,'
ok $? "SIGKILL: 1 rx and 1 tx channel again (the guard)"
if [ $rps_on = 1 ]; then
	i=0
	while [ "$(rps 0)" != 1 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	is "$(rps 0)" 1 "SIGKILL: RPS of rx-0 restored by the guard"
else
	skip "kernel without RPS"
fi

# A case that fails part way (veth queues have no IRQ to pin) leaves
# nothing changed: the channel count set before it is rolled back.
in_ns "$IRQLAB" nic set --dev "$VA" --queues 2 --irq-cpus 0 >"$OUT" 2>&1
is "$?" 1 "--irq-cpus on veth exits 1"
grep -q "rx queue 0: no IRQ found" "$OUT"
ok $? "no IRQ, in words"
json | grep -q '"channels": {"rx": 1, "tx": 1,'
ok $? "the channel change before it was rolled back"
done_testing
