# Shell TAP helpers for tests/integration/*.sh. Source it, then call
# plan/ok/skip/skip_all/done_testing. Binaries live in $IRQLAB_BUILD.
: "${IRQLAB_BUILD:?run through 'make check' or set IRQLAB_BUILD}"
TAP_N=0
TAP_FAILED=0

ok() {	# ok COND_STATUS "name"
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}
check() {	# check "name" cmd args...: ok if the command succeeds
	_name=$1; shift
	"$@"; ok $? "$_name"
}
is() {	# is GOT WANT "name"
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got '$1', want '$2'"; fi
}
diag() { echo "# $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; exit $?; }
need_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, NAPI settings)"; }
# need_built VAR PATH: VAR=$IRQLAB_BUILD/PATH, or skip the test when that
# is not built.
need_built() {
	eval "$1=\$IRQLAB_BUILD/$2"
	[ -x "$IRQLAB_BUILD/$2" ] || skip_all "${2##*/} not built"
}

# kv_world: what an irqlab-kv test needs first: perl, $KV, a temp dir $T;
# on exit the server start_kv started ($KVPID) is killed and $T removed.
kv_world() {
	need_cmd perl
	need_built KV irqlab-kv
	T=$(mktemp -d)
	trap 'kill $KVPID 2>/dev/null; wait $KVPID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
}

# stall_world NAME: the same for a test of irqlab-load ($LOAD) against the
# stalling test server ($STALL): $T is /tmp/irqlab-NAME.XXXXXX; on exit
# the server in $SPID is killed and $T removed.
stall_world() {
	need_cmd perl
	need_built LOAD irqlab-load
	need_built STALL tests/helpers/stall_server
	T=$(mktemp -d "/tmp/irqlab-$1.XXXXXX")
	SPID=
	trap 'stall_cleanup' EXIT INT TERM
}
stall_cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"; }

# wait_line FILE REGEX: waits up to 30 s for a line of FILE to match.
wait_line() {
	_wl=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $_wl -lt 600 ]; do sleep 0.05; _wl=$((_wl + 1)); done
}
# hold_start OUT CMD...: runs a `--hold` command in the background (pid in
# HOLD_PID), output to OUT (emptied first, so an old 'holding' line cannot
# end the wait), and waits for its 'holding' line.
hold_start() {
	_ho=$1; shift
	: >"$_ho"
	"$@" >"$_ho" 2>&1 &
	HOLD_PID=$!
	wait_line "$_ho" '^holding'
}
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip_all "needs $1 (scripts/install-deps.sh installs it)"; }

# start_kv ARGS...: starts irqlab-kv on 127.0.0.1 with a kernel-chosen port
# (its log in $T/kv.log), sets KVPID and PORT; fails if it never listened
# (gives up early when the server exits). The caller's trap kills $KVPID.
start_kv() {
	: >"$T/kv.log"
	"$IRQLAB_BUILD/irqlab-kv" -p 0 -l 127.0.0.1 "$@" 2>"$T/kv.log" &
	KVPID=$!
	PORT=
	for _i in $(seq 100); do
		PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$T/kv.log")
		[ -n "$PORT" ] && return 0
		kill -0 "$KVPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_memcached: Debian's memcached (1 thread, MC_MEM megabytes, default
# 64) on 127.0.0.1 at a free
# port; sets PORT and MPID (the caller's trap kills $MPID); fails if it
# never answers `stats`.
start_memcached() {
	PORT=$(free_port)
	_u=; [ "$(id -u)" -eq 0 ] && _u="-u nobody"
	memcached $_u -l 127.0.0.1 -p "$PORT" -t 1 -U 0 -m "${MC_MEM:-64}" &
	MPID=$!
	for _ in $(seq 1 30); do
		mc_counts "$PORT" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport, "\n"'
}
# mc_counts PORT: a memcached-protocol server's "cmd_get cmd_set get_misses".
mc_counts() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die "connect: $!";
		print $s "stats\r\n"; my %h;
		while (<$s>) { last if /^END/; $h{$1} = $2 if /^STAT (\S+) (\S+)/ }
		print "$h{cmd_get} $h{cmd_set} $h{get_misses}\n"' "$1"
}
# json_get FILE EXPR: a perl expression over the decoded document $j.
json_get() {
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>); print eval($ARGV[1]), "\n"' "$1" "$2"
}
