#!/bin/sh
# Kernel receive stamps (issue 13): every measured reply carries one, with
# both engines, on loopback and on a veth pair; the kernel-stamped latency
# does not grow when the generator wakes up late (--wake-delay-us, a known
# delay after every wake-up) while the user-space one grows by the delay;
# with the generator polling the two agree within a few us; --batch keeps
# the open-loop schedule; --tx-stamps gives every closed-loop request the
# kernel's send stamp; --timestamps hw on a device without hardware stamps
# says so.
# asan: no (timing)
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd memcached
need_cmd perl
LOAD=$IRQLAB_BUILD/irqlab-load
[ -x "$LOAD" ] || skip_all "irqlab-load not built"
T=$(mktemp -d /tmp/irqlab-load-ts.XXXXXX)
MPID=
cleanup() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$T"; [ -n "${NS_SRV:-}" ] && netns_down; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
start_memcached || skip_all "memcached did not start"
S=127.0.0.1:$PORT
"$LOAD" -s "$S" -r 1000 --loadonly 2>/dev/null

# every_stamped FILE NAME: all measured replies stamped, none without
every_stamped() {
	_r=$(json_get "$1" '$j->{timestamps}{stamped} == $j->{requests}{gets} + $j->{requests}{sets} && $j->{timestamps}{unstamped} == 0 && $j->{requests}{gets} > 0 ? 0 : 1')
	ok "$_r" "$2: every reply kernel-stamped ($(json_get "$1" '"$j->{timestamps}{stamped} stamped, $j->{timestamps}{unstamped} not"'))"
}
ENGINES=epoll
"$LOAD" -s 127.0.0.1:1 --engine uring -t 0.1 2>/dev/null; [ $? -ne 2 ] && ENGINES="epoll uring"
for e in $ENGINES; do
	"$LOAD" -s "$S" --noload -r 1000 -c 4 -t 0.3 --engine "$e" --json > "$T/lo-$e.json"
	ok $? "lo/$e: closed loop runs"
	every_stamped "$T/lo-$e.json" "lo/$e"
	"$LOAD" -s "$S" --noload -r 1000 -c 2 -q 2000 -t 0.3 --engine "$e" --json > "$T/lo-open-$e.json"
	every_stamped "$T/lo-open-$e.json" "lo/$e open loop"
done
[ "$ENGINES" = epoll ] && skip "io_uring not available: no uring runs"

# A known delay after every wake-up, closed loop, one connection: the
# server is idle between requests, so the network round trip stays what it
# is; the user-space latency must grow by the delay, the kernel one not.
"$LOAD" -s "$S" --noload -r 1000 -c 1 -t 0.5 --json > "$T/d0.json"
"$LOAD" -s "$S" --noload -r 1000 -c 1 -t 0.5 --wake-delay-us 500 --json > "$T/d500.json"
k0=$(json_get "$T/d0.json" '$j->{latency_us}{get}{kernel_uncorrected}{p50}')
k1=$(json_get "$T/d500.json" '$j->{latency_us}{get}{kernel_uncorrected}{p50}')
u1=$(json_get "$T/d500.json" '$j->{latency_us}{get}{uncorrected}{p50}')
diag "wake-up delayed 500 us: kernel-stamped p50 $k0 -> $k1 us, user-space p50 $u1 us"
ok "$(perl -e 'print $ARGV[0] >= 500 ? 0 : 1' "$u1")" "delayed wake-ups: user-space p50 grows by the delay (>= 500 us)"
ok "$(perl -e 'print $ARGV[1] < $ARGV[0] + 100 && $ARGV[1] < 300 ? 0 : 1' "$k0" "$k1")" \
	"delayed wake-ups: kernel-stamped p50 not inflated (< undelayed + 100 us, < 300 us)"
ok "$(json_get "$T/d500.json" '$j->{timestamps}{rx_delay_us}{p50} >= 500 ? 0 : 1')" \
	"delayed wake-ups: the stamps' difference shows the delay"

# Low load, the generator polling instead of sleeping (--spin-us longer
# than the gaps): user-space and kernel stamps of a reply a few us apart.
# On a shared 2-CPU machine the poller loses its CPU now and then, which
# delays user space's stamp of whole runs: up to three runs, the best counts
# (stamps off by a clock offset or a wrong clock would fail all three).
for try in 1 2 3; do
	"$LOAD" -s "$S" --noload -r 1000 -c 2 -q 1000 -t 0.5 --spin-us 5000 --json > "$T/spin.json"
	rd=$(json_get "$T/spin.json" '$j->{timestamps}{rx_delay_us}{p50}')
	diag "polling at 1000 QPS, run $try: user-space minus kernel stamp, p50 $rd us"
	perl -e 'exit($ARGV[0] < 25 ? 0 : 1)' "$rd" && break
done
ok "$(perl -e 'print $ARGV[0] < 25 ? 0 : 1' "$rd")" "polling, low load: the two stamps agree (p50 difference $rd < 25 us, best of up to 3 runs)"
# Every reply's kernel stamp is no later than user space's, and both
# latencies of a reply start at the same send time: so each percentile (and
# the maximum) of a kernel-stamped kind is at most the user-space one, for
# gets and sets, corrected and uncorrected; exactly, in the histograms too.
kernel_le_user() {	# kernel_le_user FILE NAME
	_bad=$(json_get "$1" 'my @b; for my $op (qw(get set)) { my $l = $j->{latency_us}{$op};
		next unless $l->{kernel_corrected} && $l->{kernel_corrected}{count};
		for my $k (qw(corrected uncorrected)) { for my $q (qw(p50 p90 p99 p999 max)) {
			push @b, "$op $k $q $l->{\"kernel_$k\"}{$q} > $l->{$k}{$q}"
				if $l->{"kernel_$k"}{$q} > $l->{$k}{$q} } } } join("; ", @b)')
	[ -z "$_bad" ]; ok $? "$2: kernel-stamped latency <= user-space latency at every percentile"
	[ -z "$_bad" ] || diag "$_bad"
}
kernel_le_user "$T/spin.json" "polling, low load"
kernel_le_user "$T/d0.json" "closed loop"
kernel_le_user "$T/d500.json" "delayed wake-ups"

# --batch keeps the open-loop schedule: waits still end at the next send time.
if [ "$ENGINES" != epoll ]; then
	# Pairs of runs, up to three: a pair where the shared machine took
	# the CPU away from the --batch run for a while (seen once: p50
	# 723 us against 62) is run again; broken batching fails all three.
	for try in 1 2 3; do
		for b in 1 8; do
			"$LOAD" -s "$S" --noload -r 1000 -c 8 -q 5000 -t 1 --engine uring --batch $b --late-us 1000 --json > "$T/b$b.json"
		done
		l1=$(json_get "$T/b1.json" '$j->{schedule}{send_lag_us}{p50}')
		l8=$(json_get "$T/b8.json" '$j->{schedule}{send_lag_us}{p50}')
		diag "open loop 5000 QPS, pair $try: send lag p50 $l1 us without batching, $l8 us with --batch 8"
		perl -e 'exit($ARGV[1] <= 2 * $ARGV[0] + 20 ? 0 : 1)' "$l1" "$l8" && break
	done
	ok "$(perl -e 'print $ARGV[1] <= 2 * $ARGV[0] + 20 ? 0 : 1' "$l1" "$l8")" \
		"--batch 8: the send lag stays (p50 $l8 <= 2 x $l1 + 20 us)"
	ok "$(perl -e 'print abs($ARGV[0] - 5000) < 500 && abs($ARGV[1] - 5000) < 500 ? 0 : 1' \
		"$(json_get "$T/b1.json" '$j->{requests}{sent}')" "$(json_get "$T/b8.json" '$j->{requests}{sent}')")" \
		"--batch 8: the rate is kept (about 5000 sends in 1 s, with and without)"
	every_stamped "$T/b8.json" "--batch 8"
	kernel_le_user "$T/b8.json" "--batch 8"
else
	skip "io_uring not available: --batch"; skip "io_uring not available: --batch"
	skip "io_uring not available: --batch"; skip "io_uring not available: --batch"
fi

# --tx-stamps: the kernel's send stamp starts a closed-loop request's
# kernel-stamped latency. Every measured request gets one (both engines,
# batched sends too); it is never before the user-space stamp, so the
# kernel-stamped latency stays at most the user-space one.
for e in $ENGINES; do
	for b in 1 8; do
		[ "$e" = epoll ] && [ "$b" = 8 ] && continue
		f=$T/tx-$e-$b.json
		"$LOAD" -s "$S" --noload -r 1000 -c 8 -t 0.3 --engine "$e" --batch "$b" --tx-stamps --json > "$f"
		ok "$(json_get "$f" '$j->{timestamps}{tx_stamped} == $j->{timestamps}{stamped} && $j->{timestamps}{stamped} > 0 && $j->{config}{timestamps} eq "sw+tx" ? 0 : 1')" \
			"--tx-stamps $e batch $b: every request has the kernel's send stamp ($(json_get "$f" '"$j->{timestamps}{tx_stamped} of $j->{timestamps}{stamped}"'))"
		ok "$(json_get "$f" 'my $g = $j->{latency_us}{get}; $j->{timestamps}{tx_delay_us}{min} >= 0 && $g->{kernel_corrected}{p50} <= $g->{uncorrected}{p50} && $g->{kernel_corrected}{p99} <= $g->{uncorrected}{p99} ? 0 : 1')" \
			"--tx-stamps $e batch $b: kernel-stamped p50/p99 <= user-space ($(json_get "$f" 'my $g = $j->{latency_us}{get}; "$g->{kernel_corrected}{p50}/$g->{kernel_corrected}{p99} vs $g->{uncorrected}{p50}/$g->{uncorrected}{p99} us; sent $j->{timestamps}{tx_delay_us}{p50} us after the user-space stamp (p50)"'))"
	done
done
"$LOAD" -s "$S" --timestamps off --tx-stamps -t 0.1 > /dev/null 2> "$T/tx.err"
is $? 2 "--tx-stamps without kernel stamps: exit status 2"
grep -q "^irqlab-load: --tx-stamps: needs --timestamps sw" "$T/tx.err"
ok $? "--tx-stamps without kernel stamps: one line naming the option ($(cat "$T/tx.err"))"

"$LOAD" -s "$S" --timestamps hw -t 0.1 > /dev/null 2> "$T/hw.err"
is $? 2 "--timestamps hw on loopback: exit status 2"
grep -q "device lo .* cannot stamp received packets in hardware" "$T/hw.err"
ok $? "--timestamps hw on loopback: says the device cannot ($(cat "$T/hw.err"))"
kill "$MPID"; wait "$MPID" 2>/dev/null; MPID=

# The same on a veth pair between two namespaces.
if [ "$(id -u)" -ne 0 ]; then
	skip "veth: needs root (network namespaces)"; skip "veth: needs root"
else
	. "$IRQLAB_SRC/tests/netns.sh"
	if netns_up; then
		trap cleanup EXIT
		ip netns exec "$NS_SRV" memcached -u nobody -l "$SRV_IP" -p 11211 -t 1 -U 0 -m 64 &
		MPID=$!
		sleep 0.3
		for e in $ENGINES; do
			ip netns exec "$NS_CLI" "$LOAD" -s "$SRV_IP" -r 1000 -c 4 -t 0.3 --engine "$e" --json > "$T/veth-$e.json"
			every_stamped "$T/veth-$e.json" "veth/$e"
		done
		[ "$ENGINES" = epoll ] && skip "io_uring not available: veth/uring"
	else
		skip "veth: cannot create namespaces"; skip "veth: cannot create namespaces"
	fi
fi
done_testing
