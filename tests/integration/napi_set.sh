#!/bin/sh
# irqlab napi list/set on a private veth pair: values read back, permanent
# changes print a working undo command, bad input gets a clear message.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
. "$IRQLAB_SRC/tests/netns.sh"
netns_world
need_feature napi_set "kernel lacks napi-set (needs Linux 6.13)"

id=$(napi_field id)
ok $([ -n "$id" ] && [ "$id" -gt 0 ]; echo $?) "napi list finds the veth NAPI (id $id)"
srv "$IRQLAB" napi list --dev "$DEV_SRV" | grep -q "^$DEV_SRV  *$id "
ok $? "table lists $DEV_SRV with its NAPI id"
srv "$IRQLAB" napi list --dev "$DEV_SRV" | grep -q "^$DEV_SRV  *$id .* 0\*$"
ok $? "rx queue 0 shown as served by the veth's only NAPI"
d0=$(napi_field defer_hard_irqs); g0=$(napi_field gro_flush_timeout_ns); s0=$(napi_field irq_suspend_timeout_ns)

out=$(srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 100 \
	--gro-flush-timeout 20us --irq-suspend-timeout 20ms 2>&1)
ok $? "napi set succeeds"
is "$(napi_field defer_hard_irqs)" 100 "defer_hard_irqs reads back 100"
is "$(napi_field gro_flush_timeout_ns)" 20000 "gro_flush_timeout reads back 20us"
is "$(napi_field irq_suspend_timeout_ns)" 20000000 "irq_suspend_timeout reads back 20ms"
echo "$out" | grep -q "defer_hard_irqs $d0 -> 100"
ok $? "output shows old -> new"
echo "$out" | grep -q "^permanent:"
ok $? "output says the change is permanent"
undo=$(echo "$out" | sed -n 's/^  undo: irqlab //p')
srv "$IRQLAB" $undo >/dev/null
ok $? "the printed undo command runs"
is "$(napi_field defer_hard_irqs)/$(napi_field gro_flush_timeout_ns)/$(napi_field irq_suspend_timeout_ns)" \
	"$d0/$g0/$s0" "undo restores the original values"

srv "$IRQLAB" napi set --id "$id" --mode suspend >/dev/null
is "$(napi_field defer_hard_irqs)/$(napi_field gro_flush_timeout_ns)/$(napi_field irq_suspend_timeout_ns)" \
	"100/20000/20000000" "--mode suspend applies defer, gro flush and suspend"
srv "$IRQLAB" napi set --id "$id" --mode base >/dev/null
is "$(napi_field defer_hard_irqs)/$(napi_field gro_flush_timeout_ns)/$(napi_field irq_suspend_timeout_ns)" \
	"0/0/0" "--mode base turns all three off"

# --dev with a plain --mode goes through il_napi_apply_mode, the call the
# servers and the preload shim use.
srv "$IRQLAB" napi set --dev "$DEV_SRV" --mode napibusy,gro_flush_timeout=50us >/dev/null
is "$(napi_field defer_hard_irqs)/$(napi_field gro_flush_timeout_ns)/$(napi_field irq_suspend_timeout_ns)" \
	"100/50000/0" "--dev --mode napibusy with an override (il_napi_apply_mode)"
srv "$IRQLAB" napi set --dev "$DEV_SRV" --mode base >/dev/null
is "$(napi_field defer_hard_irqs)/$(napi_field gro_flush_timeout_ns)" "0/0" "--dev --mode base"

if supports threaded_attr; then
	srv "$IRQLAB" napi set --id "$id" --threaded 1 >/dev/null
	is "$(napi_field threaded)" 1 "threaded=1 reads back"
	pid=$(napi_field pid)
	ok $([ "$pid" -gt 0 ] && [ -d "/proc/$pid" ]; echo $?) "threaded NAPI reports its kthread pid ($pid)"
	srv "$IRQLAB" napi set --id "$id" --threaded 0 >/dev/null
	is "$(napi_field threaded)/$(napi_field pid)" "0/-1" "threaded=0 removes the kthread"
else
	skip "per-NAPI threaded needs Linux 6.17"
	skip "per-NAPI threaded needs Linux 6.17"
	skip "per-NAPI threaded needs Linux 6.17"
fi
if supports threaded_busy_poll false && supports threaded_attr; then
	err=$(srv "$IRQLAB" napi set --id "$id" --threaded 2 2>&1)
	ok $([ $? -eq 1 ]; echo $?) "threaded=2 refused on this kernel"
	echo "$err" | grep -q "threaded=2 (busy-poll) needs Linux 6.19"
	ok $? "threaded=2 message names Linux 6.19: $err"
else
	skip "kernel accepts threaded=2 or lacks threaded"
	skip "kernel accepts threaded=2 or lacks threaded"
fi

# An id that lives in the other namespace answers ENOENT.
cid=$(ip netns exec "$NS_CLI" "$IRQLAB" napi list --dev "$DEV_CLI" --json |
	sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -n 1)
err=$(srv "$IRQLAB" napi set --id "$cid" --defer-hard-irqs 5 2>&1)
ok $([ $? -eq 1 ]; echo $?) "napi set of another namespace's NAPI fails"
echo "$err" | grep -q "NAPI id $cid not found in this network namespace (napi-set only works from the namespace that owns the device)"
ok $? "ENOENT explained: $err"

# Out-of-range options: exit 2, the option and its range named.
bad() {	# bad PATTERN args...
	_p=$1; shift
	_e=$(srv "$IRQLAB" napi set --id "$id" "$@" 2>&1)
	_rc=$?
	ok $([ $_rc -eq 2 ] && echo "$_e" | grep -q -- "$_p"; echo $?) "refused: $* -> $_e"
}
bad "--defer-hard-irqs: '2147483648' is not in 0-2147483647" --defer-hard-irqs 2147483648
bad "--gro-flush-timeout: '10parsecs' is not a time in" --gro-flush-timeout 10parsecs
bad "--irq-suspend-timeout: '5s' is not a time in 0-4294967295ns" --irq-suspend-timeout 5s
bad "--threaded: '3' is not in 0-2" --threaded 3
bad "--mode: mode: 'turbo' is not one of" --mode turbo
bad "nothing to set"
is "$(napi_field defer_hard_irqs)" 0 "refused options changed nothing"

err=$(srv "$IRQLAB" napi set --dev lo --defer-hard-irqs 5 2>&1)
echo "$err" | grep -q "lo has no NAPI"
ok $? "napi set on lo explains that lo has no NAPI"

if command -v setpriv >/dev/null; then
	err=$(srv setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$IRQLAB" napi set --id "$id" --defer-hard-irqs 5 2>&1)
	echo "$err" | grep -q "needs CAP_NET_ADMIN"
	ok $? "unprivileged napi set: $err"
	srv setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$IRQLAB" napi list --dev "$DEV_SRV" | grep -q " $id "
	ok $? "unprivileged napi list still works"
else
	skip "needs setpriv to drop privileges"
	skip "needs setpriv to drop privileges"
fi
done_testing
