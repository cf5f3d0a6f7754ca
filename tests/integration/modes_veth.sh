#!/bin/sh
# Every mode on the veth pair, for irqlab-kv (--mode) and for Debian's
# memcached under the preload shim (IRQLAB_MODE + IRQLAB_DEV): the server
# answers, the mode's NAPI settings read back while it runs and the
# originals come back after SIGTERM, and a 1 s closed-loop load shows the
# mode's signature in the kernel's counters.
#
# What is asserted about the counters, and why (testbed.md):
# - BusyPollRxPackets (per namespace, so nobody else's traffic counts):
#   > 0 in napibusy, busywait and suspend, = 0 in base and defer.
# - A veth has no hardware interrupt. Without threaded NAPI, the server's
#   receive softirq runs on the *sender's* CPU (the client, CPU 0), while
#   NET_RX on the server CPU (1) is mostly the client's receive work that
#   the server's replies trigger. So "NET_RX on the server CPU falls" is not
#   what busy polling changes on veth. What it changes is where the server's
#   receive work runs: a busy-polling server takes it out of softirq, so
#   NET_RX per request on the client CPU falls. busywait owns the NAPI
#   nearly all the time, so its drop is large and robust: asserted below
#   (under half of base's per-request rate). napibusy and suspend poll only
#   when the thread waits, and their drop depends on timing: reported, not
#   asserted. /proc/softirqs is machine-wide: when other work on this shared
#   machine shows in the control (CPU 1, see signature()), it is skipped.
#   BusyPollRxPackets / InSegs (both per namespace) is the robust form of
#   the same fact: in busywait and suspend over 1/4 of received segments
#   are busy polled (asserted).
# - busywait spins instead of sleeping: the serving thread's voluntary
#   context switches (per thread, unaffected by others) stay near zero.
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd taskset
need_cmd bash	# talk() uses bash's /dev/tcp
. "$IRQLAB_SRC/tests/netns.sh"
netns_world
KV=$IRQLAB_BUILD/irqlab-kv
LOAD=$IRQLAB_BUILD/irqlab-load
SHIM=$IRQLAB_BUILD/libirqlab-preload.so
[ "$(nproc)" -ge 2 ] || skip_all "needs 2 CPUs (server on CPU 1, client on CPU 0)"
TMP=$(mktemp -d)
SRV_PID=
cleanup() {
	[ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
	rm -rf "$TMP"
	netns_down
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
need_feature napi_set "kernel lacks napi-set (needs Linux 6.13)"
need_feature irq_suspend "kernel lacks irq_suspend_timeout (needs Linux 6.13)"

expected() {
	case $1 in
	base) echo 0/0/0 ;;
	defer) echo 100/20000/0 ;;
	napibusy) echo 100/200000/0 ;;
	busywait) echo 100/5000000/0 ;;
	suspend) echo 100/20000/20000000 ;;
	esac
}

# Start from values no mode uses, so "restored" cannot mean "reset to 0".
srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 7 --gro-flush-timeout 3us \
	--irq-suspend-timeout 1ms >/dev/null
ORIG=$(napi_settings)
is "$ORIG" "7/3000/1000000" "distinctive starting NAPI values set"

# start NAME CMD...: runs the server in the server namespace on CPU 1 and
# waits until it accepts connections. The pid file gives the server's own
# pid (ip netns exec forks, so $! would be the wrong process).
start() {
	_name=$1; shift
	rm -f "$TMP/pid"
	in_srv sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/pid" "$@" \
		>"$TMP/$_name.out" 2>"$TMP/$_name.err" &
	_i=0
	while [ $_i -lt 400 ]; do
		SRV_PID=$(cat "$TMP/pid" 2>/dev/null)
		[ -n "$SRV_PID" ] && talk "version\r\n" | grep -q '^VERSION' && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
stop() {	# stop SIGNAL: signals the server, waits (bounded) until it is gone
	kill -"$1" "$SRV_PID" 2>/dev/null
	_i=0
	while kill -0 "$SRV_PID" 2>/dev/null && [ $_i -lt 400 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	kill -0 "$SRV_PID" 2>/dev/null && { kill -KILL "$SRV_PID"; SRV_PID=; return 1; }
	wait 2>/dev/null
	SRV_PID=
	return 0
}
# talk 'REQUEST': one connection from the client namespace, replies until
# the server closes it (the request ends in quit).
talk() {
	ip netns exec "$NS_CLI" timeout 5 bash -c \
		'exec 3<>/dev/tcp/$0/$1 || exit 1; printf "$2quit\r\n" >&3; cat <&3' \
		"$SRV_IP" "$PORT" "$1" 2>/dev/null | tr -d '\r'
}
answers() {
	_got=$(talk "set shimkey 0 0 5\r\nhello\r\nget shimkey\r\nget nosuchkey\r\n" | tr '\n' '|')
	is "$_got" "STORED|VALUE shimkey 0 5|hello|END|END|" "$1: set, get and miss answered correctly"
}
insegs() {	# TCP segments received in a namespace (per namespace, like busy_polled)
	ip netns exec "$1" awk '/^Tcp:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] == "InSegs") print v[i] } }' /proc/net/snmp
}
tasks() {	# "tid cpu_ticks voluntary_switches" for each server thread
	for _tk in /proc/"$SRV_PID"/task/*; do
		_st=$(cat "$_tk/stat" 2>/dev/null) || continue
		echo "${_tk##*/} $(echo "${_st##*) }" | awk '{ print $12 + $13 }')" \
			"$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$_tk/status" 2>/dev/null)"
	done
}
# Voluntary context switches during the load: the most any thread made
# among those that worked at least 1/4 as much as the busiest one (the
# serving threads; memcached's housekeeping threads wake on timers and
# would blur the count, and in spin modes its listener thread spins too).
busiest_csw() {
	tasks >"$TMP/tasks.after"
	awk 'NR == FNR { cpu[$1] = $2; csw[$1] = $3; next }
	     ($1 in cpu) { d[$1] = $2 - cpu[$1]; c[$1] = $3 - csw[$1]; if (d[$1] > top) top = d[$1] }
	     END { for (t in d) if (d[t] * 4 >= top && c[t] > m) m = c[t]; print m + 0 }' \
		"$TMP/tasks.before" "$TMP/tasks.after"
}

# load NAME: 1 s closed loop, 16 connections; sets REQS BP RX0 RX1 CSW.
load() {
	_s0=$(insegs "$NS_SRV"); _b0=$(busy_polled "$NS_SRV"); _r0=$(net_rx_on_cpu 0); _r1=$(net_rx_on_cpu 1); tasks >"$TMP/tasks.before"
	in_cli "$LOAD" -s "$SRV_IP:$PORT" -c 16 -t 1 -r 1000 --json >"$TMP/$1.json" 2>"$TMP/$1.lerr"
	_rc=$?
	BP=$(($(busy_polled "$NS_SRV") - _b0)); SEGS=$(($(insegs "$NS_SRV") - _s0))
	RX0=$(($(net_rx_on_cpu 0) - _r0)); RX1=$(($(net_rx_on_cpu 1) - _r1))
	CSW=$(busiest_csw)
	REQS=$(sed -n 's/.*"requests": {"gets": \([0-9]*\), "sets": \([0-9]*\).*/\1 \2/p' "$TMP/$1.json" |
		awk '{ print $1 + $2 }')
	[ "$_rc" -eq 0 ] && [ "${REQS:-0}" -gt 0 ]
}
per_req() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.3f", (n > 0 ? a / n : 0) }'; }

# run_mode SERVER MODE SIGNAL CMD...: the whole check for one server/mode.
run_mode() {
	_srv=$1; _m=$2; _sig=$3; shift 3
	_t="$_srv $_m"
	if ! start "$_srv-$_m" "$@"; then
		ok 1 "$_t: server starts and answers"
		diag "$(tail -n 3 "$TMP/$_srv-$_m.err")"
		stop KILL
		return
	fi
	answers "$_t"
	_now=$(napi_settings)
	is "$_now" "$(expected "$_m")" "$_t: NAPI settings read back while it runs"
	if [ -x "$LOAD" ]; then
		if load "$_srv-$_m"; then
			ok 0 "$_t: 1 s closed-loop load ran ($REQS requests)"
			eval "REQS_$_m=$REQS RX0_$_m=$RX0 RX1_$_m=$RX1 CSW_$_m=$CSW BP_$_m=$BP SEGS_$_m=$SEGS"
			diag "$_t: busy-polled $BP of $SEGS segments ($(per_req $BP $SEGS)), NET_RX/req cpu0 $(per_req $RX0 $REQS)" \
				"cpu1 $(per_req $RX1 $REQS), voluntary csw/req $(per_req $CSW $REQS)"
			case $_m in
			base|defer) is "$BP" 0 "$_t: no busy-polled packets" ;;
			*) [ "$BP" -gt 0 ]; ok $? "$_t: busy-polled packets > 0 ($BP)" ;;
			esac
			# busywait and suspend poll whenever the thread waits: a
			# large share of what arrives, not a trace (seen: 0.58-0.85).
			case $_m in
			busywait|suspend)
				awk -v b="$BP" -v n="$SEGS" 'BEGIN { exit !(n > 0 && b / n > 0.25) }'
				ok $? "$_t: over 1/4 of received segments busy polled ($(per_req $BP $SEGS))" ;;
			esac
		else
			ok 1 "$_t: 1 s closed-loop load ran"
			diag "$(tail -n 3 "$TMP/$_srv-$_m.lerr")"
		fi
	else
		skip "$_t: no load assertions: $LOAD missing (make)"
	fi
	stop "$_sig"
	ok $? "$_t: server exits on SIG$_sig"
	is "$(napi_settings)" "$ORIG" "$_t: original NAPI settings back after SIG$_sig"
}

# signature SERVER: the cross-mode comparisons (see the top of the file).
signature() {
	if [ -z "$REQS_base" ] || [ -z "$REQS_busywait" ]; then
		skip "$1: softirq/context-switch comparison needs base and busywait loads"
		return
	fi
	# The serving threads of a spinning server never sleep. (memcached's
	# worker rarely sleeps under 16 busy connections even in base, so
	# "less than base" would compare two near-zero numbers.)
	_b=$(per_req "$CSW_base" "$REQS_base"); _w=$(per_req "$CSW_busywait" "$REQS_busywait")
	awk -v w="$_w" 'BEGIN { exit !(w < 0.01) }'
	ok $? "$1: busywait serving threads sleep < 0.01 times/request ($_w; base $_b)"
	# NET_RX on the client CPU per request, where the server's receive
	# softirq runs on veth. The CPU 1 rate is the control: the client's
	# receive of the replies, about 1 per request in every mode; above 1.2
	# means someone else's traffic is in these machine-wide counters.
	_c=$(awk -v a="$RX1_base" -v b="$REQS_base" -v c="$RX1_busywait" -v d="$REQS_busywait" \
		'BEGIN { x = a / b; y = c / d; printf "%.2f/%.2f", x, y; exit !(x <= 1.2 && y <= 1.2) }')
	if [ $? -ne 0 ]; then
		skip "$1: NET_RX comparison: other traffic on this machine (control NET_RX/request on CPU 1, base/busywait $_c, expected ~1)"
	else
		_b=$(per_req "$RX0_base" "$REQS_base"); _w=$(per_req "$RX0_busywait" "$REQS_busywait")
		awk -v b="$_b" -v w="$_w" 'BEGIN { exit !(b > 0 && w < b / 2) }'
		ok $? "$1: busywait NET_RX/request on the receiving softirq CPU < half of base ($_w vs $_b)"
	fi
	unset REQS_base REQS_busywait
}

PORT=11211
if [ -x "$KV" ]; then
	for m in base defer napibusy busywait suspend; do
		PORT=$((PORT + 1))
		run_mode kv $m TERM "$KV" -l "$SRV_IP" -p $PORT --mode $m \
			--dev "$DEV_SRV" --cpus 1 -t 1
	done
	signature kv
else
	skip "irqlab-kv: $KV missing (make)"
fi

if [ -f "$SHIM" ] && command -v memcached >/dev/null 2>&1; then
	for m in base defer napibusy busywait suspend; do
		PORT=$((PORT + 1))
		# memcached drops root (-u nobody) after the shim applied the
		# settings: the restore guard, forked before, still puts them back.
		run_mode memcached $m TERM env IRQLAB_MODE=$m IRQLAB_DEV="$DEV_SRV" \
			LD_PRELOAD="$SHIM" memcached -u nobody -t 1 -U 0 -l "$SRV_IP" -p $PORT
	done
	signature memcached
	# SIGINT, and SIGKILL, which no in-process handler survives.
	for sig in INT KILL; do
		PORT=$((PORT + 1))
		if start mc-$sig env IRQLAB_MODE=suspend IRQLAB_DEV="$DEV_SRV" \
			LD_PRELOAD="$SHIM" memcached -u nobody -t 1 -U 0 -l "$SRV_IP" -p $PORT; then
			is "$(napi_settings)" "$(expected suspend)" "memcached suspend: applied before SIG$sig"
			stop $sig
			# SIGKILL: the guard notices asynchronously; give it a moment.
			_i=0
			while [ "$(napi_settings)" != "$ORIG" ] && [ $_i -lt 40 ]; do
				sleep 0.05; _i=$((_i + 1))
			done
			is "$(napi_settings)" "$ORIG" "memcached suspend: original NAPI settings back after SIG$sig"
		else
			ok 1 "memcached suspend: server starts (SIG$sig run)"
			stop KILL
		fi
	done
	# A wrapper that execs the server also loads the shim (same pid): the
	# wrapper applies, the server image sees IRQLAB_NAPI_OWNER and does not
	# apply again, and the restore still follows the server's exit.
	PORT=$((PORT + 1))
	if start mc-exec env IRQLAB_MODE=napibusy IRQLAB_DEV="$DEV_SRV" IRQLAB_VERBOSE=1 \
		LD_PRELOAD="$SHIM" sh -c 'exec "$@"' sh \
		memcached -u nobody -t 1 -U 0 -l "$SRV_IP" -p $PORT; then
		is "$(napi_settings)" "$(expected napibusy)" "memcached via an exec'ing wrapper: applied"
		grep -q "belong to pid $SRV_PID, not applied again" "$TMP/mc-exec.err"
		ok $? "memcached via an exec'ing wrapper: the server image does not apply twice"
		stop TERM
		is "$(napi_settings)" "$ORIG" "memcached via an exec'ing wrapper: restored after SIGTERM"
	else
		ok 1 "memcached via an exec'ing wrapper: server starts"
		stop KILL
	fi
	# Someone changes the settings while the server runs: the guard
	# leaves their values alone rather than putting back stale ones.
	PORT=$((PORT + 1))
	if start mc-changed env IRQLAB_MODE=suspend IRQLAB_DEV="$DEV_SRV" IRQLAB_VERBOSE=1 \
		LD_PRELOAD="$SHIM" memcached -u nobody -t 1 -U 0 -l "$SRV_IP" -p $PORT; then
		srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 5 >/dev/null
		stop TERM
		is "$(napi_settings)" "5/20000/20000000" "memcached suspend: a change made by someone else during the run is kept"
		grep -q "was changed by someone else; left as is" "$TMP/mc-changed.err"
		ok $? "memcached suspend: the guard says so"
		srv "$IRQLAB" napi set --dev "$DEV_SRV" --defer-hard-irqs 7 --gro-flush-timeout 3us \
			--irq-suspend-timeout 1ms >/dev/null
	else
		ok 1 "memcached suspend: server starts (changed-settings run)"
		stop KILL
	fi
	# Without CAP_NET_ADMIN the shim stops the program before it runs and
	# changes nothing.
	if command -v setpriv >/dev/null 2>&1; then
		_msg=$(srv setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
			env IRQLAB_MODE=suspend IRQLAB_DEV="$DEV_SRV" LD_PRELOAD="$SHIM" \
			memcached -t 1 -U 0 -l "$SRV_IP" -p 1 2>&1)
		_rc=$?
		[ $_rc -eq 2 ] && echo "$_msg" | grep -q "^irqlab-preload: IRQLAB_DEV=$DEV_SRV: .*needs CAP_NET_ADMIN"
		ok $? "shim without CAP_NET_ADMIN: exit 2, '$_msg'"
		is "$(napi_settings)" "$ORIG" "shim without CAP_NET_ADMIN: NAPI settings untouched"
	else
		skip "needs setpriv to drop root"
	fi
else
	skip "memcached under the shim: needs $SHIM and memcached (scripts/install-deps.sh)"
fi
is "$(napi_settings)" "$ORIG" "NAPI settings at the end are the starting ones"
done_testing
