#!/bin/sh
# Memory limits over the protocol. (1) A tiny -m filled with 10 kB values,
# then 100-byte values, then 300 kB values: every set is STORED (pages move
# between size classes, evicting what they held), evictions and moved pages
# are counted, the last keys written hit. (2) A client pipelines gets of a
# 500 kB value (200 MB of replies) without reading: the server's memory
# stays bounded, and every reply arrives once the client reads.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
kv_world
start_kv -t 2 -m 4 || skip_all "irqlab-kv did not start"

cat >"$T/fill.pl" <<'PL'
use strict; use IO::Socket::INET;
my ($port, $prefix, $size, $n, $last) = @ARGV;
my $s = IO::Socket::INET->new("127.0.0.1:$port") or die "connect: $!";
my $v = "v" x $size; my %r;
for my $i (1..$n) {
	# one write per request: print splits at 8 kB, and Nagle would hold
	# the rest until the server's delayed ACK (40 ms per set)
	my $req = "set $prefix$i 0 0 $size\r\n$v\r\n";
	syswrite($s, $req) == length($req) or die "short write";
	my $l = <$s>; defined $l or die "eof"; $l =~ s/\r\n//; $r{$l}++;
}
my $hits = 0;
print $s "get", (map { " $prefix$_" } ($n - $last + 1)..$n), "\r\n";
while (my $l = <$s>) { last if $l eq "END\r\n"; if ($l =~ /^VALUE \S+ \d+ (\d+)/) { read($s, my $d, $1 + 2); $hits++ } }
print join(",", map { "$_=$r{$_}" } sort keys %r), " hits=$hits\n";
PL
stat_of() {
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die;
		print $s "stats\r\n"; while (<$s>) { last if /^END/; print "$1\n" if /^STAT '"$1"' (\d+)/ }'
}
is "$(perl "$T/fill.pl" "$PORT" big 10000 1000 50)" "STORED=1000 hits=50" \
	"-m 4: 1000 x 10 kB values stored, the last 50 hit"
ev0=$(stat_of evictions)
is "$(perl "$T/fill.pl" "$PORT" small 100 20000 50)" "STORED=20000 hits=50" \
	"then 20000 x 100-byte values: every set STORED, the last 50 hit"
ev1=$(stat_of evictions); mv=$(stat_of slabs_moved)
[ "$ev1" -gt "$ev0" ] && [ "$mv" -gt 0 ]
ok $? "pages moved to the new class ($mv), their items counted as evictions ($ev0 -> $ev1)"
is "$(perl "$T/fill.pl" "$PORT" huge 300000 30 10)" "STORED=30 hits=10" \
	"then 30 x 300 kB values (own allocations): every set STORED, the last 10 hit"
is "$(perl "$T/fill.pl" "$PORT" again 2000 3000 50)" "STORED=3000 hits=50" \
	"then 3000 x 2 kB values: every set STORED, the last 50 hit"
used=$(stat_of malloced_bytes)
[ "$used" -le $((4 * 1024 * 1024)) ]
ok $? "item memory within -m 4 ($used bytes)"

kill "$KVPID"; wait "$KVPID"; is "$?" 0 "clean exit"
start_kv -t 1 -m 64 || { ok 1 "irqlab-kv -m 64 starts"; done_testing; }
rss() { awk '/^VmRSS/ { print $2 }' /proc/$KVPID/status; }
rss0=$(rss)
# 400 pipelined gets of a 500 kB value, nothing read for 2 s, then all read
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die "connect: $!";
	my $v = "b" x 500000;
	print $s "set pbig 0 0 500000\r\n$v\r\n"; <$s>;
	print $s "get pbig\r\n" x 400;
	sleep 2;
	system("awk \"/^VmRSS/ { print \\\$2 }\" /proc/'"$KVPID"'/status > '"$T"'/rss.mid");
	my ($n, $vals, $bad) = (0, 0, 0);
	while ($n < 400) {
		my $l = <$s>; defined $l or last;
		if ($l =~ /^VALUE pbig 0 500000\r\n$/) {
			read($s, my $d, 500002); $d eq "$v\r\n" ? $vals++ : $bad++;
		} elsif ($l eq "END\r\n") { $n++ } else { $bad++ }
	}
	print "$n $vals $bad\n";' >"$T/pipe.out" 2>&1
is "$(cat "$T/pipe.out")" "400 400 0" "400 pipelined 500 kB gets, unread for 2 s: all answered intact"
mid=$(cat "$T/rss.mid")
# the replies total 200 MB; unbounded output would hold them all
[ -n "$mid" ] && [ $((mid - rss0)) -lt 40960 ]
ok $? "server memory grew $((mid - rss0)) kB while the client did not read (bound: 40 MB; replies 200 MB)"
kill "$KVPID"; wait "$KVPID"; is "$?" 0 "clean exit"
KVPID=
done_testing
