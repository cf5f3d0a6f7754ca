#!/bin/sh
# Slab classes as memcached's (issue 11): the same items sent to irqlab-kv
# and to Debian's memcached 1.6.18 give the same "stats slabs" (every
# class's chunk size, chunks per page, pages, used/free chunks and per-class
# command counters, total_malloced), the same per-class "stats items"
# numbers, and the same memcached-tool display, with the default layout
# and with -n 8 -f 2. Only the LRU-tail age (seconds, timing) is masked.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd perl
need_cmd memcached
TOOL=/usr/share/memcached/scripts/memcached-tool
KV=$IRQLAB_BUILD/irqlab-kv
[ -x "$KV" ] || skip_all "irqlab-kv not built"
T=$(mktemp -d)
trap 'kill $KVPID $MPID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT INT TERM

# the workload: values of 0-300 kB over some classes, flags on some, and a
# get, gat, touch, incr, decr, cas (hit and bad value), delete per class
cat > "$T/load.pl" <<'PL'
use strict; use IO::Socket::INET;
my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die "connect: $!";
my $out = '';
my @sizes = (1, 5, 36, 37, 90, 200, 500, 1000, 3000, 9000, 30000, 100000, 300000);
for my $i (0 .. $#sizes) {
	my $n = $sizes[$i];
	for my $j (0 .. 2 + ($n < 10000 ? 20 : 0)) {
		$out .= sprintf("set k%d_%d %d 0 %d\r\n%s\r\n", $i, $j, $j % 3 ? 0 : 7, $n, "9" x $n);
	}
	$out .= "get k${i}_0\r\ngat 100 k${i}_1\r\ntouch k${i}_2 50\r\n";
	$out .= "incr k${i}_1 1\r\ndecr k${i}_1 1\r\n" if $n < 20;
	$out .= "gets k${i}_0\r\n";
}
print $s $out, "quit\r\n";
my $r = join('', <$s>);
# cas needs the cas unique of a gets: the second pass uses them
my %cas = $r =~ /^VALUE (\S+) \d+ \d+ (\d+)\r$/mg;
$s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die "connect: $!";
$out = '';
for my $k (sort keys %cas) {
	my ($n) = $k =~ /^k(\d+)_/;
	my $len = $sizes[$n];
	$out .= sprintf("cas %s 0 0 %d %d\r\n%s\r\n", $k, $len, $cas{$k}, "8" x $len);
	$out .= sprintf("cas %s 0 0 %d %d\r\n%s\r\n", $k, $len, $cas{$k}, "8" x $len);
	$out .= "delete k${n}_2\r\n";
}
print $s $out, "quit\r\n";
my @r = <$s>;
PL

# stats slabs / stats items / memcached-tool display of the server on PORT
# (ages masked)
snap() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die "connect: $!";
		for my $c ("stats slabs", "stats items") {
			print $s "$c\r\n";
			while (<$s>) { s/\r//; last if /^END/; print; }
		}' "$1" >"$T/$2.stats"
	perl "$TOOL" "127.0.0.1:$1" display | awk '{ if (NR > 1) $3 = "X"; print }' >"$T/$2.display"
}

# one run on each server with the given options; compares their snapshots
compare() {	# compare "options" label
	start_kv -t 2 -m 64 $1 || { cat "$T/kv.log"; skip_all "irqlab-kv did not start"; }
	perl "$T/load.pl" "$PORT" && snap "$PORT" kv
	kill "$KVPID"; wait "$KVPID" 2>/dev/null
	PORT=$(free_port)
	_u=; [ "$(id -u)" -eq 0 ] && _u="-u nobody"
	memcached $_u -l 127.0.0.1 -p "$PORT" -t 1 -U 0 -m 64 $1 &
	MPID=$!
	for _ in $(seq 1 30); do mc_counts "$PORT" >/dev/null 2>&1 && break; sleep 0.1; done
	perl "$T/load.pl" "$PORT" && snap "$PORT" mc
	kill "$MPID"; wait "$MPID" 2>/dev/null
	# memcached's items lines that irqlab-kv has (no LRU segments, no
	# crawler); ages masked
	grep -vE 'items:[0-9]+:(number_hot|number_warm|number_cold|age_hot|age_warm|tailrepairs|evicted_active|crawler_|lrutail_reflocked|moves_|direct_reclaims|hits_to_)' \
		"$T/mc.stats" | sed 's/\(items:[0-9]*:age\) .*/\1 X/' >"$T/mc.cmp"
	# crawler_* lines: memcached's background crawler moves them on its
	# own schedule (irqlab-kv crawls on "lru_crawler crawl")
	grep -vE 'items:[0-9]+:crawler_' "$T/kv.stats" | sed 's/\(items:[0-9]*:age\) .*/\1 X/' >"$T/kv.cmp"
	if cmp -s "$T/mc.cmp" "$T/kv.cmp"; then
		ok 0 "$2: stats slabs and stats items identical to memcached's ($(grep -c chunk_size "$T/kv.cmp") classes, $(wc -l <"$T/kv.cmp") lines)"
	else
		ok 1 "$2: stats slabs and stats items identical to memcached's"
		diff -u "$T/mc.cmp" "$T/kv.cmp" | head -40 | sed 's/^/# /'
	fi
	if [ -s "$T/kv.display" ] && cmp -s "$T/mc.display" "$T/kv.display"; then
		ok 0 "$2: memcached-tool display reads irqlab-kv unchanged, same table ($(($(wc -l <"$T/kv.display") - 1)) classes)"
	else
		ok 1 "$2: memcached-tool display reads irqlab-kv unchanged, same table"
		diff -u "$T/mc.display" "$T/kv.display" | head -20 | sed 's/^/# /'
	fi
}

[ -r "$TOOL" ] || skip_all "needs $TOOL (Debian's memcached package)"
compare "" "defaults (-n 48 -f 1.25)"
compare "-n 8 -f 2" "-n 8 -f 2"
cat "$T/kv.display" | sed 's/^/# /'
done_testing
