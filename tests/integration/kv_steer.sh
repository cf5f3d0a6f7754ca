#!/bin/sh
# NAPI-aware steering and NAPI settings on a real veth NAPI: irqlab-kv with
# two loops in the server namespace, --dev and --mode defer; every
# connection arrives on the veth's one NAPI, so all go to one thread, none
# round robin; the mode's defer/gro settings are on the NAPI while the
# server runs and restored after SIGTERM. Then --mode base --dev: base's
# zeros applied while it runs, the old value back after.
. "$IRQLAB_SRC/tests/lib.sh"
need_root
need_cmd ip
need_cmd ethtool
need_cmd perl
KV=$IRQLAB_BUILD/irqlab-kv
[ -x "$KV" ] || skip_all "irqlab-kv not built"
. "$IRQLAB_SRC/tests/netns.sh"
netns_up || skip_all "cannot create the veth namespaces here"
T=$(mktemp -d)
trap 'kill $KVPID 2>/dev/null; wait $KVPID 2>/dev/null; rm -rf "$T"; netns_down' EXIT INT TERM

ip netns exec "$NS_SRV" "$KV" -t 2 --mode defer --dev "$DEV_SRV" -l "$SRV_IP" -p 11211 2>"$T/kv.log" &
KVPID=$!
up=1
for i in $(seq 100); do
	ip netns exec "$NS_CLI" perl -MIO::Socket::INET -e "exit !IO::Socket::INET->new('$SRV_IP:11211')" 2>/dev/null && { up=0; break; }
	sleep 0.1
done
if [ $up -ne 0 ] && grep -q "CAP_NET_ADMIN\|needs Linux" "$T/kv.log"; then
	skip_all "$(head -1 "$T/kv.log")"
fi
ok $up "irqlab-kv --mode defer --dev $DEV_SRV -t 2 serves on $SRV_IP"

napi_defer() {	# current defer_hard_irqs of the veth's NAPI, via irqlab napi
	ip netns exec "$NS_SRV" "$IRQLAB_BUILD/irqlab" napi list 2>/dev/null |
		awk -v d="$DEV_SRV" '$1 == d { print $6; exit }'
}
[ -x "$IRQLAB_BUILD/irqlab" ] && HAVE_NAPI_CLI=1 || HAVE_NAPI_CLI=0
if [ $HAVE_NAPI_CLI = 1 ]; then
	is "$(napi_defer)" 100 "defer_hard_irqs is 100 on the NAPI while kv runs"
else
	skip "irqlab napi CLI not built"
fi

# 8 connections, each sends a few requests, then stats
ip netns exec "$NS_CLI" perl -MIO::Socket::INET -e '
	my @s; for (1..8) { push @s, IO::Socket::INET->new("'"$SRV_IP"':11211") or die "connect: $!" }
	for my $i (0..$#s) { my $s = $s[$i]; print $s "set k$i 0 0 1\r\n$i\r\nget k$i\r\n";
		for (1..4) { my $l = <$s> } }
	my $s = $s[0]; print $s "stats irqlab\r\n";
	while (<$s>) { print; last if /^END/ }' >"$T/stats" 2>&1
ok $? "8 clients over the veth pair get replies"
st() { awk -v k="$1" '$2 == k { print $3 + 0 }' "$T/stats"; }
acc=$(st irqlab_accepted)
is "$(st irqlab_steer_round_robin)" 0 "no connection steered round robin (each had a NAPI id)"
is "$(( $(st irqlab_steer_by_napi) + $(st irqlab_steer_first_come) ))" "$acc" "every accepted connection steered by its NAPI id"
c0=$(st irqlab_thread0_conns_total) c1=$(st irqlab_thread1_conns_total)
[ "$c0" -eq "$acc" ] || [ "$c1" -eq "$acc" ]
ok $? "one NAPI -> one thread: all $acc connections on one loop (thread0 $c0, thread1 $c1)"
[ "$(st irqlab_thread0_napi_id)$(st irqlab_thread1_napi_id)" != 00 ]
ok $? "the owning thread saw a nonzero NAPI id"

kill "$KVPID"; wait "$KVPID"; rc=$?
is "$rc" 0 "SIGTERM: clean exit"
KVPID=
if [ $HAVE_NAPI_CLI = 1 ]; then
	is "$(napi_defer)" 0 "defer_hard_irqs restored to 0 after exit"
else
	skip "irqlab napi CLI not built"
fi

# --mode base with --dev: base means no deferral, so the NAPI is set to 0
# while the server runs (from a distinctive value) and put back after.
if [ $HAVE_NAPI_CLI = 1 ] &&
   ip netns exec "$NS_SRV" "$IRQLAB_BUILD/irqlab" napi set --dev "$DEV_SRV" \
	--defer-hard-irqs 7 >/dev/null 2>&1 && [ "$(napi_defer)" = 7 ]; then
	ip netns exec "$NS_SRV" "$KV" -t 1 --mode base --dev "$DEV_SRV" -l "$SRV_IP" \
		-p 11211 2>"$T/kv-base.log" &
	KVPID=$!
	up=1
	for i in $(seq 100); do
		ip netns exec "$NS_CLI" perl -MIO::Socket::INET -e "exit !IO::Socket::INET->new('$SRV_IP:11211')" 2>/dev/null && { up=0; break; }
		sleep 0.1
	done
	ok $up "irqlab-kv --mode base --dev $DEV_SRV serves"
	is "$(napi_defer)" 0 "--mode base --dev: defer_hard_irqs 0 while kv runs (was 7)"
	kill "$KVPID"; wait "$KVPID"; rc=$?
	KVPID=
	is "$rc" 0 "--mode base: clean exit"
	is "$(napi_defer)" 7 "--mode base: defer_hard_irqs restored to 7 after exit"
else
	for i in 1 2 3 4; do skip "--mode base --dev: irqlab napi set unavailable"; done
fi
done_testing
