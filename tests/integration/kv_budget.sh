#!/bin/sh
# Memory outside -m (issue 11, defect 4): partially received values and
# lines count against -o read_buf_mem_limit (default 16 MB). 200 clients
# each sending 999,000 bytes of a 1 MB set and pausing: past the budget the
# sets are refused with memcached's "SERVER_ERROR out of memory storing
# object" and their bytes swallowed, RSS stays bounded (the code before:
# 192 MB at -m 64); 3000 slowloris connections (2 KB of a line, no
# newline) are closed past the budget (read_buf_oom) or by -o
# idle_timeout=2 (idle_kicks); the server still serves afterwards.
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd perl
[ -x "$IRQLAB_BUILD/irqlab-kv" ] || skip_all "irqlab-kv not built"
T=$(mktemp -d)
trap 'kill $KVPID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT INT TERM
FLOOD="$IRQLAB_SRC/scripts/kv-flood.pl"
stat_of() {	# stat_of NAME: a "stats" value
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die "connect: $!";
		print $s "stats\r\n"; while (<$s>) { last if /^END/; print "$1\n" if /^STAT \Q$ARGV[1]\E (\S+)/ }' "$PORT" "$1"
}
hwm() { sed -n 's/^VmHWM:[ \t]*\([0-9]*\) kB/\1/p' /proc/$KVPID/status; }
roundtrip() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die;
		print $s "set after 0 0 2\r\nok\r\nget after\r\n"; my $r = "";
		while (<$s>) { $r .= $_; last if /^END/ } print $r =~ /VALUE after 0 2\r\nok/ ? "ok\n" : "bad: $r\n"' "$PORT"
}

start_kv -t 2 -m 64 -c 5000 || { cat "$T/kv.log"; skip_all "irqlab-kv did not start"; }
base=$(hwm)
out=$(timeout 120 perl "$FLOOD" "127.0.0.1:$PORT" partial 200 3)
diag "$out"
grown=$(( ($(hwm) - base) / 1024 ))
refused=$(echo "$out" | sed -n 's/.*SERVER_ERROR=\([0-9]*\).*/\1/p')
ok $([ "${refused:-0}" -ge 150 ]; echo $?) "partial-value flood: ${refused:-0} of 200 sets refused past the 16 MB budget"
if [ -n "$IRQLAB_TSAN" ]; then skip "RSS under ThreadSanitizer (shadow memory)"; else
ok $([ "$grown" -lt 40 ]; echo $?) "... RSS grew $grown MB at -m 64 (the code before: 192 MB)"; fi
is "$(stat_of irqlab_read_buf_refused)" "${refused:-x}" "... counted (irqlab_read_buf_refused)"
ok $([ "$(stat_of store_no_memory)" -ge "${refused:-1}" ]; echo $?) "... and as store_no_memory, like memcached"
is "$(roundtrip)" ok "a set and a get are served afterwards"
ok $([ "$(stat_of read_buf_bytes)" -le $((1024 * 1024)) ]; echo $?) "the budget is given back (read_buf_bytes $(stat_of read_buf_bytes): the threads' idle blocks)"
kill "$KVPID"; wait "$KVPID" 2>/dev/null

start_kv -t 2 -m 64 -c 5000 -o idle_timeout=2 || { cat "$T/kv.log"; skip_all "irqlab-kv did not start"; }
base=$(hwm)
out=$(timeout 120 perl "$FLOOD" "127.0.0.1:$PORT" slowloris 3000 5)
diag "$out"
grown=$(( ($(hwm) - base) / 1024 ))
closed=$(echo "$out" | sed -n 's/.*closed by server: \([0-9]*\).*/\1/p')
is "$closed" 3000 "slowloris: all 3000 connections closed within 5 s"
oom=$(stat_of read_buf_oom); kicks=$(stat_of idle_kicks)
is "$((oom + kicks))" 3000 "... past the budget ($oom, read_buf_oom) or idle for 2 s ($kicks, idle_kicks)"
ok $([ "$kicks" -gt 0 ]; echo $?) "... -o idle_timeout closed some"
if [ -n "$IRQLAB_TSAN" ]; then skip "RSS under ThreadSanitizer (shadow memory)"; else
ok $([ "$grown" -lt 40 ]; echo $?) "... RSS grew $grown MB (the code before: 62 MB, kept forever)"; fi
is "$(roundtrip)" ok "a set and a get are served afterwards"
is "$(stat_of curr_connections)" 1 "only the stats connection is left"
kill "$KVPID"; wait "$KVPID" 2>/dev/null

"$IRQLAB_BUILD/irqlab-kv" -o idle_timeout=x 2>"$T/err"; st=$?
is "$st" 2 "-o idle_timeout=x exits 2"
is "$(wc -l <"$T/err")" 1 "... with one line: $(cat "$T/err")"
"$IRQLAB_BUILD/irqlab-kv" -o nosuch=1 2>"$T/err"; st=$?
is "$st" 2 "-o nosuch=1 exits 2: $(cat "$T/err")"
done_testing
