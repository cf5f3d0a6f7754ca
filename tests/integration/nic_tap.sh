#!/bin/sh
# irqlab nic on a tap device in a private network namespace: tun's only
# coalescing knob is rx-frames (ethtool -C rx-frames), so get, set, the
# "off" preset, refusals in words, and restore after --hold ends by
# SIGTERM, SIGINT (sigwait) and SIGHUP (the library's handler) are all
# checked against what the kernel reports afterwards; after SIGKILL the
# restore guard puts them back. ethtool reads the values back independently.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_root
need_cmd ip
need_cmd ethtool	# the restore guard undoes ethtool settings with it
IRQLAB=$IRQLAB_BUILD/irqlab
NS=ilnic$$
TAP=iltap$$
OUT=$(mktemp)
trap 'rm -f "$OUT"; ip netns del "$NS" 2>/dev/null' EXIT
ip netns add "$NS" 2>/dev/null || skip_all "cannot create a network namespace"
ip -n "$NS" tuntap add dev "$TAP" mode tap 2>/dev/null ||
	skip_all "cannot create a tap device (no /dev/net/tun or CONFIG_TUN)"
in_ns() { ip netns exec "$NS" "$@"; }
frames() {
	in_ns "$IRQLAB" nic show --dev "$TAP" --json |
		sed -n 's/.*"coalesce": {"rx-frames": \([0-9]*\)}.*/\1/p'
}

in_ns "$IRQLAB" nic show --dev "$TAP" --json >"$OUT" 2>&1
ok $? "show --json exits 0"
grep -q '"coalesce": {"rx-frames": 0}' "$OUT"
ok $? "tap reports rx-frames only, 0 by default"
grep -q '"rings": null' "$OUT"
ok $? "tap has no ring settings: null"
grep -q '"queues": \[{"queue": 0, "napi_id": 0, "irq": -1' "$OUT"
ok $? "one rx queue, no IRQ"
grep -q '"driver": {"name": "tun", "version": "[0-9.]*", "firmware": "", "bus_info": "tap"}' "$OUT"
ok $? "the driver as ethtool -i has it: tun, bus tap" || diag "$(head -c 200 "$OUT")"
in_ns "$IRQLAB" nic show --dev "$TAP" | grep -q "^  rings     not supported by $TAP (ethtool -G)"
ok $? "text: rings not supported, in words"

# A permanent set, read back by irqlab and by ethtool.
in_ns "$IRQLAB" nic set --dev "$TAP" --rx-frames 7 >"$OUT" 2>&1
ok $? "set --rx-frames 7 exits 0"
is "$(frames)" 7 "rx-frames 7 read back"
grep -q "^set $TAP coalesce: rx-frames 7 (was 0)" "$OUT"
ok $? "set prints new and old value"
grep -q "^  ethtool -C $TAP rx-frames 0" "$OUT"
ok $? "the undo command is printed"
is "$(in_ns ethtool -c "$TAP" | sed -n 's/^rx-frames: *//p')" 7 "ethtool -c agrees"

# Refusals: nothing changes, the sentence names the device and the knob.
in_ns "$IRQLAB" nic set --dev "$TAP" --rx-usecs 5 >"$OUT" 2>&1
is "$?" 1 "rx-usecs on tap exits 1"
grep -q "$TAP does not support rx-usecs (ethtool -C $TAP rx-usecs)" "$OUT"
ok $? "rx-usecs refusal in words"
in_ns "$IRQLAB" nic set --dev "$TAP" --coalesce adaptive >"$OUT" 2>&1
is "$?" 1 "--coalesce adaptive on tap exits 1"
grep -q "does not support adaptive interrupt coalescing" "$OUT"
ok $? "adaptive refusal in words"
is "$(frames)" 7 "refused sets changed nothing"
in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$IRQLAB" nic set --dev "$TAP" --rx-frames 3 >"$OUT" 2>&1
grep -q "coalesce-set on $TAP: needs CAP_NET_ADMIN" "$OUT"
ok $? "without CAP_NET_ADMIN: needs CAP_NET_ADMIN"
in_ns "$IRQLAB" nic set --dev "$TAP" --rx-frames x >"$OUT" 2>&1
is "$?" 2 "bad option value exits 2"
grep -q -- "--rx-frames" "$OUT"
ok $? "bad value error names the option"

# hold SIGNAL: --coalesce off (rx-frames 1 on tap) held, then signalled.
hold() {
	# Not through in_ns: ip netns exec execs irqlab, so the signal reaches it.
	hold_start "$OUT" ip netns exec "$NS" "$IRQLAB" nic set --dev "$TAP" --coalesce off --hold
	_pid=$HOLD_PID
	HELD=$(frames)
	kill -"$1" $_pid
	wait $_pid 2>/dev/null
	RC=$?
}
for sig in TERM INT; do
	hold $sig
	is "$HELD" 1 "SIG$sig: --coalesce off holds rx-frames 1"
	is "$RC" 0 "SIG$sig: exits 0 after restoring"
	is "$(frames)" 7 "SIG$sig: rx-frames 7 restored"
	grep -q "^restored after SIG$sig" "$OUT"
	ok $? "SIG$sig: says so"
done
hold HUP
is "$HELD" 1 "SIGHUP: held"
is "$RC" 129 "SIGHUP: died of the signal after the handler ran"
is "$(frames)" 7 "SIGHUP: restored by the signal handler"

# SIGKILL: no handler runs; the restore guard (a process irqlab started
# before the first change) runs "ethtool -C TAP rx-frames 7" when irqlab's
# end of its socket closes, within milliseconds.
hold KILL
is "$HELD" 1 "SIGKILL: held"
is "$RC" 137 "SIGKILL: killed"
i=0
while [ "$(frames)" != 7 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
is "$(frames)" 7 "SIGKILL: rx-frames 7 restored by the guard"

in_ns "$IRQLAB" nic set --dev "$TAP" --rx-frames 0 >/dev/null
is "$(frames)" 0 "back to the default"
done_testing
