#!/usr/bin/perl
# kv-flood.pl HOST:PORT MODE [N] [SECONDS]: the memory floods of issue 11
# against a memcached-protocol server, bounded in connections and time.
#   partial   N connections (200) each send "set" of a 1,000,000-byte value,
#             then 999,000 bytes of it, and hold (SECONDS, 5)
#   slowloris N connections (3000) each send 2,000 bytes of a line without
#             its newline, and hold
#   hold      N connections (10000) each send "version", all answers are
#             read, then they are held (SECONDS) and checked again
#   randset   4 connections pipeline sets of random sizes (1 B - 1 MB,
#             log-uniform) over 5,000 keys for SECONDS, reading replies
# Prints one line: what was sent and what the connections got back
# (replies by first word, connections closed by the server).
use strict; use warnings; use IO::Socket::INET; use IO::Select;
$SIG{PIPE} = "IGNORE";
use Time::HiRes qw(time sleep);
my ($addr, $mode, $n, $secs) = @ARGV;
die "usage: kv-flood.pl HOST:PORT partial|slowloris|randset [N] [SECONDS]\n" unless $mode;
$secs //= 5;
my (%got, $closed);
sub conn { IO::Socket::INET->new(PeerAddr => $addr) }
# reads what is there on each socket without blocking; counts replies and closes
sub drain {
	my ($sel, $t) = @_;
	for my $s ($sel->can_read($t)) {
		my $b; my $r = sysread($s, $b, 1 << 20);
		if (!$r) { $closed++; $sel->remove($s); next }
		$got{$1}++ while $b =~ /^(\S+)[^\n]*\n/mg;
	}
}
if ($mode eq 'partial' || $mode eq 'slowloris') {
	$n //= $mode eq 'partial' ? 200 : 3000;
	my $sel = IO::Select->new; my $sent = 0;
	for my $i (1 .. $n) {
		my $s = conn() or do { $got{connect_failed}++; next };
		$s->blocking(0);
		my $msg = $mode eq 'partial' ? "set flood$i 0 0 1000000\r\n" . ("x" x 999000) : "get " . ("k" x 1996);
		my $off = 0; my $end = time + 10;
		while ($off < length($msg) && time < $end) {
			my $w = syswrite($s, $msg, length($msg) - $off, $off);
			if (defined $w) { $off += $w } else { sleep 0.001 }
		}
		$sent += $off;
		$sel->add($s);
		drain($sel, 0) if $i % 50 == 0;
	}
	my $end = time + $secs;
	drain($sel, 0.2) while time < $end;
	printf "%s: %d connections, %d bytes sent; replies: %s; closed by server: %d\n", $mode, $n, $sent,
		join(" ", map { "$_=$got{$_}" } sort keys %got) || "none", $closed // 0;
} elsif ($mode eq 'hold') {
	$n //= 10000;
	my @s; my $t0 = time;
	for (1 .. $n) { my $s = conn() or do { $got{connect_failed}++; last }; push @s, $s }
	# each connection asks once, all are answered while all are open
	my $ask = sub {
		my %line; print $_ "version\r\n" for @s; $_->flush for @s;
		my $sel = IO::Select->new(@s); my $end = time + 30;
		while ($sel->count && time < $end) {
			for my $s ($sel->can_read(0.5)) { my $b; my $r = sysread($s, $b, 4096);
				if (!$r) { $closed++; $sel->remove($s); next }
				$line{$s} .= $b; if ($line{$s} =~ /\n/) { $got{(split ' ', $line{$s})[0]}++; $sel->remove($s) } }
		}
	};
	$ask->();
	printf "hold: %d connections open after %.1f s; answers: %s\n", scalar(@s), time - $t0,
		join(" ", map { "$_=$got{$_}" } sort keys %got);
	%got = (); sleep $secs; $ask->();
	printf "hold: after %d s held, asked again: %s; closed by server: %d\n", $secs,
		join(" ", map { "$_=$got{$_}" } sort keys %got), $closed // 0;
} elsif ($mode eq 'randset') {
	my @s = map { conn() or die "connect: $!" } 1 .. 4;
	$_->blocking(0) for @s;
	my $sel = IO::Select->new(@s); my ($sets, $bytes) = (0, 0); my $end = time + $secs;
	srand(11);
	while (time < $end) {
		for my $s (@s) {
			my $len = int(exp(rand(log(1000000))));
			my $msg = "set r" . int(rand(5000)) . " 0 0 $len noreply\r\n" . ("v" x $len) . "\r\n";
			my $off = 0;
			while ($off < length($msg) && time < $end + 5) {
				my $w = syswrite($s, $msg, length($msg) - $off, $off);
				if (defined $w) { $off += $w } else { drain($sel, 0.001) }
			}
			$sets++; $bytes += $len;
		}
		drain($sel, 0);
	}
	for my $s (@s) { $s->blocking(1); print $s "mn\r\n" }
	my $t = time + 10; drain($sel, 0.2) while ($got{MN} // 0) < 4 && time < $t;
	printf "randset: %d sets, %d value bytes in %d s; replies: %s\n", $sets, $bytes, $secs,
		join(" ", map { "$_=$got{$_}" } sort keys %got) || "none";
} else { die "unknown mode $mode\n" }
