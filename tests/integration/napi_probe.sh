#!/bin/sh
# irqlab probe explains the kernel and the device: a veth with GRO has a
# NAPI whose settings are shown, lo has none and says why.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
. "$IRQLAB_SRC/tests/netns.sh"
netns_world

out=$(srv "$IRQLAB" probe --dev "$DEV_SRV")
ok $? "probe --dev $DEV_SRV exits 0"
echo "$out" | grep -q "^kernel $(uname -r)"
ok $? "probe names the running kernel"
echo "$out" | grep -q "EPIOCSPARAMS"
ok $? "probe reports epoll busy-poll parameters"
if ! echo "$out" | grep -q "^  yes  napi-get"; then
	skip_all "kernel lacks napi-get (needs Linux 6.8): $(echo "$out" | grep napi-get)"
fi
id=$(srv "$IRQLAB" napi list --dev "$DEV_SRV" --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p')
echo "$out" | grep -q "^  $DEV_SRV  *$id "
ok $? "probe lists NAPI $id of $DEV_SRV in its table"
echo "$out" | grep -q "$DEV_SRV: NAPI $id polls its receive queue; it has no hardware IRQ"
ok $? "probe explains the veth NAPI has no IRQ"
echo "$out" | grep -q "^  $DEV_SRV  *rx0  *->"
ok $? "probe shows the rx queue -> NAPI map"
echo "$out" | grep -q "BusyPollRxPackets = [0-9]"
ok $? "probe reads TcpExt BusyPollRxPackets"
echo "$out" | grep -q "this process has CAP_NET_ADMIN"
ok $? "probe says root may change settings"

# Settings show up in the probe once changed.
if echo "$out" | grep -q "^  yes  napi-set irq_suspend"; then
	srv "$IRQLAB" napi set --id "$id" --mode suspend >/dev/null
	srv "$IRQLAB" probe --dev "$DEV_SRV" | grep -q "^  $DEV_SRV  *$id  *-  *-  *0  *100  *20us  *20ms"
	ok $? "probe shows defer 100, gro 20us, suspend 20ms"
	srv "$IRQLAB" probe --dev "$DEV_SRV" --json | grep -q "\"id\": $id, .*\"defer_hard_irqs\": 100, \"gro_flush_timeout_ns\": 20000, \"irq_suspend_timeout_ns\": 20000000"
	ok $? "probe --json shows the same settings"
	srv "$IRQLAB" napi set --id "$id" --mode base >/dev/null
else
	skip "kernel lacks irq suspend (needs Linux 6.13)"
	skip "kernel lacks irq suspend (needs Linux 6.13)"
fi

if command -v perl >/dev/null; then
	srv "$IRQLAB" probe --json | perl -MJSON::PP -e 'decode_json(join "", <STDIN>)'
	ok $? "probe --json is valid JSON"
	srv "$IRQLAB" napi list --json | perl -MJSON::PP -e 'decode_json(join "", <STDIN>)'
	ok $? "napi list --json is valid JSON"
	srv "$IRQLAB" probe --json --dev 'no"such' | perl -MJSON::PP -e 'decode_json(join "", <STDIN>)'
	ok $? "probe --json escapes a device name with a quote"
else
	skip "needs perl to check JSON"
	skip "needs perl to check JSON"
	skip "needs perl to check JSON"
fi

lo=$(srv "$IRQLAB" probe --dev lo)
ok $? "probe --dev lo exits 0"
echo "$lo" | grep -q "lo has no NAPI: .*busy polling needs a device with NAPI (a real NIC, or a veth with GRO on)"
ok $? "probe explains that lo has no NAPI"

all=$(srv "$IRQLAB" probe)
echo "$all" | grep -q "no device given: listing all NAPIs in this namespace"
ok $? "probe without --dev says it lists the whole namespace"
echo "$all" | grep -q "^  $DEV_SRV  *$id "
ok $? "probe without --dev lists the veth NAPI"

srv "$IRQLAB" probe --dev nosuchdev0 | grep -q "no device 'nosuchdev0' in this network namespace"
ok $? "unknown device explained"
srv "$IRQLAB" probe --dev nosuchdev0 >/dev/null
is $? 1 "unknown device exits 1"

# A veth without GRO has no NAPI: the probe says how to get one.
srv ethtool -K "$DEV_SRV" gro off
srv "$IRQLAB" probe --dev "$DEV_SRV" | grep -q "$DEV_SRV has no NAPI: .*ethtool -K $DEV_SRV gro on"
ok $? "veth without GRO: probe says to turn GRO on"

if command -v setpriv >/dev/null; then
	srv setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$IRQLAB" probe | grep -q "lacks CAP_NET_ADMIN: listing works, but changing NAPI settings (napi-set) .* need CAP_NET_ADMIN"
	ok $? "unprivileged probe names what needs CAP_NET_ADMIN"
else
	skip "needs setpriv to drop privileges"
fi
"$IRQLAB" probe --help | grep -q -- "--dev DEV"
ok $? "probe --help documents --dev"
done_testing
