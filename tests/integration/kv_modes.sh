#!/bin/sh
# Every mode preset on loopback (no root, no device): irqlab-kv applies the
# epoll side (EPIOCSPARAMS) to each loop, serves, reports the mode in
# "stats irqlab", spins in the spin modes (zero-event epoll_pwait2 calls),
# and exits cleanly. The NAPI side needs --dev: see kv_steer.sh.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
kv_world

for mode in base defer napibusy busywait suspend; do
	if ! start_kv -t 1 --mode $mode; then
		if grep -q "needs Linux\|CAP_NET_ADMIN" "$T/kv.log"; then
			skip "--mode $mode: $(head -1 "$T/kv.log")"
			continue
		fi
		ok 1 "--mode $mode starts"; cat "$T/kv.log" | sed 's/^/# /'
		continue
	fi
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die;
		for my $i (1..200) { my $v = "v$i"; print $s "set k$i 0 0 " . length($v) . "\r\n$v\r\nget k$i\r\n"; <$s> for 1..4 }
		print $s "stats irqlab\r\n"; while (<$s>) { last if /^END/; print }' >"$T/stats" 2>&1
	grep -q "irqlab_mode $mode " "$T/stats"
	ok $? "--mode $mode: serves 200 set+get, stats irqlab reports the mode"
	spins=$(awk '/irqlab_thread0_epoll_zero_spins/ { print $3 + 0 }' "$T/stats")
	if [ $mode = busywait ]; then
		[ "${spins:-0}" -gt 0 ]; ok $? "--mode busywait spins: $spins zero-event waits"
	else
		is "${spins:-x}" 0 "--mode $mode blocks: no zero-event waits"
	fi
	kill $KVPID; wait $KVPID; is $? 0 "--mode $mode: clean exit"
	KVPID=
done
"$KV" --mode defer -p 0 -l 127.0.0.1 2>"$T/note" & KVPID=$!
sleep 0.5; kill $KVPID; wait $KVPID; KVPID=
grep -q "without --dev only its epoll side" "$T/note"
ok $? "a mode with NAPI knobs and no --dev says what is not applied"
done_testing
