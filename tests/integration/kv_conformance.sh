#!/bin/sh
# Protocol conformance: the same request scripts go to irqlab-kv and to
# Debian's memcached 1.6.18 (both fresh, on 127.0.0.1, free ports); replies
# must match byte for byte, except fields that legitimately differ (masked:
# pid/uptime-like stats values).
# Scripts: tests/integration/kv_requests/*.txt, one request line per line,
# sent with "\r\n"; a line "!perl EXPR" sends the bytes EXPR evaluates to.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd perl
need_cmd memcached
KV=$IRQLAB_BUILD/irqlab-kv
[ -x "$KV" ] || skip_all "irqlab-kv not built"
T=$(mktemp -d)
trap 'kill $KVPID $MCPID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT INT TERM

# a free port: let the kernel pick one for kv, memcached gets one from perl
start_kv -t 2 -m 64 || { cat "$T/kv.log"; skip_all "irqlab-kv did not start"; }
KVPORT=$PORT
MCPORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:0")->sockport')
MCUSER=$( [ "$(id -u)" -eq 0 ] && echo "-u nobody" )
memcached $MCUSER -p "$MCPORT" -U 0 -l 127.0.0.1 -t 1 -m 64 2>/dev/null &
MCPID=$!
for i in $(seq 50); do
	perl -MIO::Socket::INET -e "exit !IO::Socket::INET->new('127.0.0.1:$MCPORT')" 2>/dev/null && break
	sleep 0.2
done

# client: sends a script on a fresh connection, half-closes, reads until the
# server closes (or 10 s of silence), prints the reply with masks applied
cat > "$T/client.pl" <<'PL'
use strict; use IO::Socket::INET; use IO::Select;
my ($port, $file) = @ARGV;
open(my $f, '<', $file) or die "$file: $!";
my $out = '';
while (my $l = <$f>) {
	chomp $l;
	next if $l =~ /^#/;
	if ($l =~ /^!perl (.*)$/) { $out .= eval($1); die $@ if $@; }
	elsif ($l =~ /^!sleep (\d+)$/) { $out .= "\0SLEEP$1\0"; }
	else { $out .= "$l\r\n"; }
}
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
for my $part (split /\0SLEEP(\d+)\0/, $out) {
	next unless length $part;
	if ($part =~ /^\d+$/ && $part < 10) { sleep $part; next; }
	print $s $part; $s->flush;
}
shutdown($s, 1);
my $sel = IO::Select->new($s); my $r = '';
while ($sel->can_read(10)) { my $b; my $n = sysread($s, $b, 1 << 20); last if !$n; $r .= $b; }
$r =~ s/^(STAT (?:pid|uptime|time|rusage_\w+|bytes_read|bytes_written|bytes|malloced_bytes|hash_bytes)) .*$/$1 X/mg;
# stats conns: fd numbers, ports and idle seconds differ between servers
$r =~ s/^STAT \d+:(addr|listen_addr|state|secs_since_last_cmd) /STAT N:$1 /mg;
$r =~ s/^(STAT N:(?:listen_)?addr tcp6?:.*:)\d+\r$/$1P\r/mg;
$r =~ s/^(STAT N:secs_since_last_cmd) \d+\r$/$1 X\r/mg;
$r =~ s/\r\n/\\r\\n\n/g;
print $r;
PL

for f in "$IRQLAB_SRC"/tests/integration/kv_requests/*.txt; do
	n=$(basename "$f" .txt)
	perl "$T/client.pl" "$MCPORT" "$f" >"$T/$n.mc" 2>&1
	perl "$T/client.pl" "$KVPORT" "$f" >"$T/$n.kv" 2>&1
	if cmp -s "$T/$n.mc" "$T/$n.kv"; then
		ok 0 "$n: replies identical to memcached ($(wc -l <"$T/$n.mc") lines)"
	else
		ok 1 "$n: replies identical to memcached"
		diff -u "$T/$n.mc" "$T/$n.kv" | head -40 | sed 's/^/# /'
	fi
done
kill "$KVPID" 2>/dev/null
wait "$KVPID"; st=$?
is "$st" 0 "irqlab-kv exits 0 on SIGTERM"
done_testing
