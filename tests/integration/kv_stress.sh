#!/bin/sh
# Several threads and clients at once: 8 clients on a 4-loop server each
# write and read back their own keys (values must come back intact), all
# increment one shared counter (no lost update across threads/shards), and
# append to one shared key (every append lands exactly once), while an
# admin client keeps issuing stats, stats reset and verbosity (the
# ThreadSanitizer pass, make tsan, runs this for data races).
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
kv_world
# -m 64: values of 1-3000 bytes use 17 classes of 1 MiB pages
start_kv -t 4 -m 64 || skip_all "irqlab-kv did not start"

cat >"$T/client.pl" <<'PL'
use strict; use IO::Socket::INET;
my ($port, $id, $n) = @ARGV;
my $s = IO::Socket::INET->new("127.0.0.1:$port") or die "connect: $!";
srand($id);
sub line { my $l = <$s>; die "eof" unless defined $l; $l }
my $bad = 0;
print $s "set ctr$id 0 0 1\r\n0\r\n"; line();
for my $j (1..$n) {
	my $k = "c${id}:k" . ($j % 50);	# a prefix for stats detail
	my $v = join '', map { chr(97 + int rand 26) } 1..(1 + int rand 3000);
	print $s "set $k $j 0 " . length($v) . "\r\n$v\r\nget $k\r\nincr shared 1\r\n";
	line() eq "STORED\r\n" or $bad++;
	my $h = line();
	if ($h =~ /^VALUE \S+ (\d+) (\d+)\r\n$/) {
		my $got; read($s, $got, $2 + 2);
		$bad++ unless $1 == $j && $got eq "$v\r\n";
		line() eq "END\r\n" or $bad++;
	} else { $bad++ }
	line() =~ /^\d+\r\n$/ or $bad++;
	if ($j % 10 == 0) { print $s "append log 0 0 2\r\n$id.\r\n"; line() eq "STORED\r\n" or $bad++ }
}
print "bad $bad\n";
PL
printf 'set shared 0 0 1\r\n0\r\nset log 0 0 0\r\n\r\n' |
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die; local $/; print $s <STDIN>; $s->shutdown(1); print while <$s>' >/dev/null
# the admin client: counters read and reset, the verbosity changed, while
# the 8 clients work (until they are done: the file $T/done)
cat >"$T/admin.pl" <<'PL'
use strict; use IO::Socket::INET;
my ($port, $done) = @ARGV;
my $s = IO::Socket::INET->new("127.0.0.1:$port") or die "connect: $!";
my ($n, $bad) = (0, 0);
my @cmds = ("stats", "stats reset", "verbosity 1", "stats settings", "stats irqlab",
	    "verbosity 0", "stats detail on", "stats detail dump", "stats conns",
	    "stats sizes_enable", "stats sizes", "stats detail off", "stats sizes_disable");
while (!-e $done && $n < 20000) {
	my $c = $cmds[$n++ % @cmds];
	print $s "$c
";
	# sizes_enable/disable answer one line, without END (as memcached)
	if ($c =~ /sizes_(en|dis)able/) { my $l = <$s>; next }
	while (my $l = <$s>) { last if $l =~ /^(END|RESET|OK|ERROR|CLIENT_ERROR)/ }
}
print "admin $n
";
PL
perl "$T/admin.pl" "$PORT" "$T/done" >"$T/admin" 2>&1 &
admin=$!
N=300
pids=
for id in 1 2 3 4 5 6 7 8; do
	perl "$T/client.pl" "$PORT" $id $N >"$T/out.$id" 2>&1 &
	pids="$pids $!"
done
wait $pids
: >"$T/done"
wait $admin
diag "$(cat "$T/admin") admin commands (stats, stats reset, verbosity, stats detail/conns/sizes) during the load"
bad=$(cat "$T"/out.* | awk '/^bad/ { s += $2 } END { print s + 0 }')
done8=$(cat "$T"/out.* | grep -c '^bad')
is "$done8" 8 "8 concurrent clients finished"
is "$bad" 0 "every set/get/incr/append reply was right (values up to 3000 bytes read back intact)"
final=$(perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die;
	print $s "get shared log\r\n"; my %v; while (<$s>) { last if /^END/; if (/^VALUE (\S+) \d+ (\d+)/) { my ($k, $n) = ($1, $2); read($s, my $d, $n + 2); $v{$k} = substr($d, 0, $n) } }
	my %c; $c{$_}++ for split /\./, $v{log}; print "$v{shared} ", join(",", map { "$_=$c{$_}" } sort keys %c)')
is "$final" "$((8 * N)) 1=30,2=30,3=30,4=30,5=30,6=30,7=30,8=30" \
	"shared counter = 8 x $N increments, every client's 30 appends present once"
st=$(perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:'"$PORT"'") or die;
	print $s "stats irqlab\r\n"; while (<$s>) { last if /^END/; print "$1\n" if /irqlab_thread\d_conns_total (\d+)/ }' | awk '$1 > 0' | wc -l)
is "$st" 4 "connections spread over all 4 loops (round robin on loopback)"
kill "$KVPID"; wait "$KVPID"; is "$?" 0 "clean exit"
KVPID=
done_testing
