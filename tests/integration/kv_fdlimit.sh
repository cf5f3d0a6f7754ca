#!/bin/sh
# File-descriptor exhaustion (issue 11, defect 1): irqlab-kv under a low
# RLIMIT_NOFILE (ulimit -n 64, -c 1000) warns once with the connections the
# limit allows; at the fd limit every new client is told "ERROR Too many
# open connections" (accepted with the reserved fd) instead of hanging, the
# server does not spin (loop 0's epoll waits and the process' CPU time stay
# bounded while clients keep knocking), refusals are counted, and once
# connections close new clients are served again.
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd perl
KV=$IRQLAB_BUILD/irqlab-kv
[ -x "$KV" ] || skip_all "irqlab-kv not built"
T=$(mktemp -d)
trap 'kill $KVPID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT INT TERM

# ulimit in a subshell: only the server gets the low limit
(ulimit -n 64 && exec "$KV" -p 0 -l 127.0.0.1 -t 2 -c 1000 2>"$T/kv.log") &
KVPID=$!
PORT=
for _i in $(seq 100); do
	PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$T/kv.log")
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || { cat "$T/kv.log"; skip_all "irqlab-kv did not start"; }
warn=$(grep -c 'warning: --conn-limit 1000 needs .* RLIMIT_NOFILE allows 64 (hard limit): about [0-9]* connections' "$T/kv.log")
is "$warn" 1 "one warning line names the connections RLIMIT_NOFILE allows"
diag "$(grep warning "$T/kv.log")"

timeout 60 perl - "$PORT" "$KVPID" >"$T/out" 2>&1 <<'PL'
use strict; use IO::Socket::INET; use IO::Select; use Time::HiRes qw(time sleep);
my ($port, $pid) = @ARGV;
my $hz = 100;	# USER_HZ
sub cpu { open my $f, '<', "/proc/$pid/stat" or return 0; my @f = split / /, (split /\) /, <$f>)[1]; return ($f[11] + $f[12]) / $hz; }
# opens n connections, sends "version" on each; returns (served sockets, counts)
sub knock {
	my ($n) = @_; my (@s, %c);
	for (1 .. $n) { my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or do { $c{connect_failed}++; next }; print $s "version\r\n"; push @s, $s; }
	my $sel = IO::Select->new(@s); my %got; my $end = time + 5;
	while ($sel->count && time < $end) {
		for my $s ($sel->can_read(0.2)) { my $b; my $r = sysread($s, $b, 4096);
			if (!$r) { $got{$s} //= 'EOF'; $sel->remove($s); next }
			$got{$s} .= $b; $sel->remove($s) if $got{$s} =~ /\n/ }
	}
	my @served;
	for my $s (@s) { my $l = $got{$s} // 'silent'; $l =~ s/\r?\n.*//s;
		if ($l =~ /^VERSION/) { $c{served}++; push @served, $s } elsif ($l =~ /^ERROR Too many open connections/) { $c{refused}++ } else { $c{other}++ } }
	return (\@served, \%c);
}
sub stats { my ($s) = @_; print $s "stats\r\n"; my %h; while (<$s>) { last if /^END/; $h{$1} = $2 if /^STAT (\S+) (\S+)/ } return \%h }
sub counts { my ($c) = @_; return join(" ", map { "$_=" . ($c->{$_} // 0) } qw(served refused other connect_failed)) }
my ($held, $c) = knock(100);
print "first ", counts($c), "\n";
my $a = stats($held->[0]); my $cpu0 = cpu(); my $t0 = time;
# clients keep knocking for 2 s while every fd is taken
my %k;
while (time - $t0 < 2) { my (undef, $c2) = knock(5); $k{$_} += $c2->{$_} for keys %$c2; sleep 0.1 }
my $b = stats($held->[0]); my $cpu = cpu() - $cpu0; my $dt = time - $t0;
print "knock ", counts(\%k), "\n";
printf "window %.2f s: waits %d refused %d cpu %.2f s\n", $dt,
	$b->{irqlab_thread0_epoll_waits} - $a->{irqlab_thread0_epoll_waits},
	$b->{rejected_connections} - $a->{rejected_connections}, $cpu;
print "rejected $b->{rejected_connections} accepting $b->{accepting_conns} curr $b->{curr_connections}\n";
# free 30 fds: new clients are served again
close($_) for splice(@$held, 0, 30);
sleep 0.3;
my (undef, $c3) = knock(10);
print "after ", counts($c3), "\n";
PL
cat "$T/out" | sed 's/^/# /'
first=$(sed -n 's/^first //p' "$T/out")
served=$(echo "$first" | sed 's/.*served=\([0-9]*\).*/\1/')
refused=$(echo "$first" | sed 's/.*refused=\([0-9]*\).*/\1/')
other=$(echo "$first" | sed 's/.*other=\([0-9]*\).*/\1/')
ok $([ "${served:-0}" -ge 40 ] && [ "${refused:-0}" -ge 30 ]; echo $?) "100 clients at ulimit -n 64: served up to the limit, the rest refused ($first)"
is "${other:-x}" 0 "no client left without an answer"
knock=$(sed -n 's/^knock //p' "$T/out")
is "$(echo "$knock" | sed 's/.*served=\([0-9]*\).*/\1/')" 0 "at the limit, new clients are refused ($knock)"
is "$(echo "$knock" | sed 's/.*other=\([0-9]*\).*/\1/')" 0 "... every one of them told so"
set -- $(sed -n 's/^window \([0-9.]*\) s: waits \([0-9]*\) refused \([0-9]*\) cpu \([0-9.]*\) s/\1 \2 \3 \4/p' "$T/out")
# each knock is a few events (accept, refusal); a spinning loop makes
# tens of thousands of waits a second
ok $([ -n "$2" ] && [ "$2" -le $(( ${3:-0} * 4 + 200 )) ]; echo $?) "no busy loop: loop 0 waited $2 times for $3 refused connections in $1 s"
ok $(perl -e 'exit !($ARGV[0] ne "" && $ARGV[0] <= 0.5)' "$4"; echo $?) "server CPU in the 2 s window: $4 s (a spin takes 2)"
rej=$(sed -n 's/^rejected \([0-9]*\) .*/\1/p' "$T/out")
ok $([ "${rej:-0}" -ge "$refused" ]; echo $?) "rejected_connections counts the refusals ($rej)"
after=$(sed -n 's/^after //p' "$T/out")
is "$(echo "$after" | sed 's/.*served=\([0-9]*\).*/\1/')" 10 "after 30 clients left, 10 new ones are served ($after)"
kill "$KVPID"; wait "$KVPID"; st=$?
is "$st" 0 "irqlab-kv exits 0 on SIGTERM"
done_testing
