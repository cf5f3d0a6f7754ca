#!/bin/sh
# Real clients against irqlab-kv: libmemcached-tools (memccp, memccat,
# memcrm, memcstat, memcflush, memcslap) over the text protocol, plus the
# connection limit and the option errors.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd memccp
need_cmd memccat
need_cmd memcrm
need_cmd memcstat
KV=$IRQLAB_BUILD/irqlab-kv
[ -x "$KV" ] || skip_all "irqlab-kv not built"
T=$(mktemp -d)
trap 'kill $KVPID 2>/dev/null; wait $KVPID 2>/dev/null; rm -rf "$T"' EXIT INT TERM

start_kv -t 2 -c 8 || { cat "$T/kv.log"; skip_all "irqlab-kv did not start"; }
S=127.0.0.1:$PORT

head -c 100000 /dev/urandom >"$T/blob.bin"
printf 'hello world\n' >"$T/small.txt"
(cd "$T" && memccp --servers=$S --flags=42 blob.bin small.txt)
ok $? "memccp stores two files"
# memccat prints a newline after the value (with memcached too)
memccat --servers=$S blob.bin >"$T/blob.out"
printf '\n' >>"$T/blob.bin"
cmp -s "$T/blob.bin" "$T/blob.out"; ok $? "memccat returns the 100000-byte binary value unchanged"
is "$(memccat --servers=$S small.txt)" "hello world" "memccat small value"
is "$(memccat --servers=$S --flag small.txt 2>&1 | head -1)" "42" "flags survive (memccat --flag)"
memcrm --servers=$S small.txt; ok $? "memcrm deletes"
memccat --servers=$S small.txt >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "memccat of a deleted key fails"
memcstat --servers=$S >"$T/stat.out"
grep -q 'curr_items: 1' "$T/stat.out" && grep -q 'irqlab_steer_round_robin' "$T/stat.out"
ok $? "memcstat reads stats (curr_items 1, irqlab counters)"
if command -v memcflush >/dev/null 2>&1; then
	memcflush --servers=$S; ok $? "memcflush"
	memccat --servers=$S blob.bin >/dev/null 2>&1
	[ $? -ne 0 ]; ok $? "flushed key is gone"
fi
if command -v memcslap >/dev/null 2>&1; then
	timeout 20 memcslap --servers=$S --concurrency=4 --execute-number=500 --test=set >"$T/slap.out" 2>&1
	ok $? "memcslap 4x500 sets complete"
	timeout 20 memcslap --servers=$S --concurrency=4 --execute-number=500 --test=get >>"$T/slap.out" 2>&1
	ok $? "memcslap 4x500 gets complete"
fi

# two loops under concurrent load with 30% sets (ASan build: memory errors
# would abort the server)
if [ -x "$IRQLAB_BUILD/irqlab-load" ]; then
	"$IRQLAB_BUILD/irqlab-load" -s "$S" -T 2 -c 3 -d 4 -r 2000 -u 0.3 -V fb_value -t 1 >"$T/load.out" 2>&1
	ok $? "irqlab-load: 6 connections, depth 4, 30% sets for 1 s"
	grep -q '^Total QPS' "$T/load.out"; ok $? "irqlab-load reports a QPS ($(grep '^Total QPS' "$T/load.out" | cut -c1-40))"
else
	skip "irqlab-load not built"
	skip "irqlab-load not built"
fi

# connection limit (-c 8): the 9th is refused the way memcached does
perl -MIO::Socket::INET -e '
	my @s; for (1..8) { push @s, IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die }
	for (@s) { print $_ "version\r\n"; my $l = <$_>; die "no version" unless $l =~ /^VERSION/ }
	my $x = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die; my $l = <$x>;
	print $l; my $eof = <$x>; print defined $eof ? "open\n" : "closed\n";' >"$T/limit.out" 2>&1
is "$(tr -d '\r' <"$T/limit.out" | tr '\n' '|')" "ERROR Too many open connections|closed|" \
	"connection 9 of -c 8: 'ERROR Too many open connections', closed"
printf 'version\r\n' | perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die; print $s "version\r\n";
	my $l = <$s>; print $l' | grep -q VERSION
ok $? "after those close, connections are accepted again"

# option errors: one line naming the option and its range, exit 2
for a in "-p 70000" "-t 0" "-m 0" "-c 0" "-I 10" "-U 5" "--mode nosuch" "--cpus 99999" "--mode suspend,irq_suspend_timeout=x"; do
	"$KV" $a >"$T/o.out" 2>&1; st=$?
	n=$(wc -l <"$T/o.out")
	[ "$st" -eq 2 ] && [ "$n" -eq 1 ]; ok $? "irqlab-kv $a: exit 2, one line: $(cat "$T/o.out")"
done
"$KV" --help >"$T/help.out"; ok $? "--help exits 0"
# three clients still connected (one mid-value) when SIGTERM arrives
perl -MIO::Socket::INET -e '
	my @s = map { IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die } 1..3;
	print {$s[0]} "set half 0 0 10\r\n01234"; $s[0]->flush; sleep 5' &
HOLD=$!
sleep 0.5
kill "$KVPID"; wait "$KVPID"
is "$?" 0 "SIGTERM with 3 open connections: clean exit (and leak-free under ASan)"
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
KVPID=
for o in --port --listen --threads --memory-limit --conn-limit --max-item-size --udp-port --mode --cpus --dev --verbose --help; do
	grep -q -- "$o" "$T/help.out"; ok $? "--help documents $o"
done
done_testing
