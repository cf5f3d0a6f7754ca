#!/bin/sh
# Invalid options: one line naming the option, the value and its range
# (irqlab/opt.h's wording), exit 2.
# Unreachable servers: a clear error naming the server, exit 1.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
LOAD=$IRQLAB_BUILD/irqlab-load
[ -x "$LOAD" ] || skip_all "irqlab-load not built"
T=$(mktemp -d /tmp/irqlab-load-opt.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

bad() {	# bad "name" PATTERN ARGS...
	_n=$1; _p=$2; shift 2
	"$LOAD" "$@" > "$T/out" 2> "$T/err"
	_rc=$?
	_lines=$(wc -l < "$T/err")
	if [ $_rc -eq 2 ] && [ "$_lines" -eq 1 ] && grep -q -- "$_p" "$T/err"; then
		ok 0 "$_n"
	else
		ok 1 "$_n"
		diag "rc=$_rc lines=$_lines: $(cat "$T/err")"
	fi
}
S="-s 127.0.0.1:1"
bad "depth 0" "--depth: '0' is not an integer in 1-4096" $S -d 0
bad "threads too many" "--threads: '1000' is not an integer in 1-256" $S -T 1000
bad "connections not a number" "--connections: 'x' is not an integer in 1-4096" $S -c x
bad "negative qps" "--qps: '-5' is not a number in 0-1e+09" $S -q -5
bad "update above 1" "--update: '1.5' is not a number in 0-1" $S -u 1.5
bad "time 0" "--time: '0' is not a number in 0.01-86400" $S -t 0
bad "records 0" "--records: '0' is not in 1-1000000000" $S -r 0
bad "unknown key distribution" "--keysize: unknown distribution 'bogus:3'" $S -K bogus:3
bad "bad value distribution parameter" "--valuesize: distribution 'pareto:1,2'" $S -V pareto:1,2
bad "zipf exponent 0" "--popularity: '0' is not a number in 1e-06-10" $S -P zipf:0
bad "popularity junk" "--popularity: 'hot' is not uniform or zipf:S" $S -P hot
bad "cpu out of range" "--cpus: '4096' is not a CPU list like 1,3 or 0-3 (CPUs 0-" $S --cpus 4096
bad "no server" "--server: at least one HOST" -t 1
bad "bad port" "--server: '99999' is not in 1-65535" -s 127.0.0.1:99999
bad "unknown option" "unknown option '--frobnicate'" $S --frobnicate
bad "spin too long" "--spin-us: '20000' is not a number in 0-10000" $S --spin-us 20000
bad "unknown protocol" "--protocol: 'binary' is not text or meta" $S --protocol binary
bad "loadonly with noload" "--loadonly: cannot be combined with --noload" $S --loadonly --noload
bad "qps with a unit suffix still ranged" "--qps: '2G' is not a number in 0-1e+09" $S -q 2G
bad "v6 port checked" "--server: '0' is not in 1-65535" -s "[::1]:0"
"$LOAD" --help > "$T/help"; ok $? "--help exits 0"
for o in server threads cpus connections depth qps iadist keysize valuesize records update \
	 popularity loadonly noload warmup time timeout late-us seed json protocol preload-depth spin-us \
	 start-at; do
	grep -q -- "--$o" "$T/help" || { ok 1 "--help documents --$o"; continue; }
	ok 0 "--help documents --$o"
done

# Port 1 on loopback: nothing listens there.
"$LOAD" -s 127.0.0.1:1 -t 1 > "$T/out" 2> "$T/err"
rc=$?
is "$rc" 1 "refused connection: exit 1"
grep -q "server 127.0.0.1:1: connect: Connection refused" "$T/err"; ok $? "refused connection: message names the server"
done_testing
