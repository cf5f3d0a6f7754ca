#!/bin/sh
# irqlab agent, the remote half of the multi-host bench: JSON jobs in, JSON
# answers out; NAPI and NIC settings and a server it started are put back
# when stdin ends (a dropped ssh connection), on SIGTERM, by the guard after
# SIGKILL, and by `irqlab agent --restore` when agent and guard were both
# killed. Runs in a private veth world (tests/netns.sh).
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
IRQLAB=$IRQLAB_BUILD/irqlab
T=$(mktemp -d)
ST=$T/state

# --- the protocol, no root needed ------------------------------------------
printf '%s\n' '{"id":1,"op":"hello"}' 'garbage' '{"id":3,"op":"nope"}' \
	'{"id":4,"op":"load","args":[1]}' '{"id":5,"op":"server-start","bin":"sh","port":1}' \
	'{"id":6,"op":"server-start","bin":"memcached","port":1,"env":["PATH=/tmp"]}' |
	"$IRQLAB" agent --state-dir "$ST" >"$T/p.out" 2>"$T/p.err"
ok $? "agent exits 0 at the end of its input"
is "$(wc -l <"$T/p.out")" 6 "one answer per job"
grep -q '"error":"\\"env\\" holds IRQLAB_NAME=VALUE strings only","id":6' "$T/p.out"
ok $? "a server's environment holds the shim's IRQLAB_ settings only"
grep -q '^{.*"guard_pid":[1-9].*"ok":true,"id":1}$' "$T/p.out"
ok $? "hello answers with the guard's pid"
grep -q '"error":"line 2: not a JSON object: .*garbage' "$T/p.out"
ok $? "a line that is no JSON gets its line number"
grep -q '"error":"unknown op .nope.","id":3' "$T/p.out"
ok $? "an unknown op is named"
grep -q '"error":"\\"args\\" must hold strings only","id":4' "$T/p.out"
ok $? "non-string args are refused"
grep -q '"error":"the agent starts irqlab-kv, irqlab-load or memcached, not .sh.","id":5' "$T/p.out"
ok $? "only irqlab's programs (or memcached) are started"
ls "$ST"/agent-*.undo >/dev/null 2>&1
ok $((! $?)) "no journal left after a normal end"

# the server host's window: stats-begin / stats-end
at=$(perl -MTime::HiRes=time -e 'printf "%.3f", time + 0.3')
printf '%s\n' '{"id":1,"op":"stats-end"}' '{"id":2,"op":"stats-begin","cpus":"0"}' \
	'{"id":3,"op":"stats-end","at":'"$at"'}' '{"id":4,"op":"stats-begin","cpus":"4095"}' \
	'{"id":5,"op":"server-stats"}' |
	"$IRQLAB" agent --state-dir "$ST" >"$T/s.out" 2>"$T/s.err"
grep -q '"error":"stats-end without stats-begin","id":1' "$T/s.out"
ok $? "stats-end needs a stats-begin"
w=$(perl -MJSON::PP -ne '$j = decode_json($_); next unless $j->{id} == 3; my $c = $j->{cpus}[0]; my $s = 0; $s += $c->{$_} for qw(user sys irq softirq steal idle); printf "%d %d %.0f %s", scalar @{$j->{cpus}}, $c->{cpu}, $s, $j->{wall_s} > 0.2 && $j->{wall_s} < 2 ? "window" : "bad:$j->{wall_s}"' "$T/s.out")
is "$w" "1 0 100 window" "stats-end at a wall-clock instant: cpu0's split sums to 100 over the window"
grep -q '"id":3}$' "$T/s.out" && grep '"id":3}$' "$T/s.out" | grep -Eq '"(perf":"[^"]+|cycles":[0-9]+)'
ok $? "hardware counters: counted, or why not"
grep -q '"ok":false,.*cpu.*"id":4}$' "$T/s.out"
ok $? "a CPU the host does not have is refused"
grep -q '"error":"server-stats needs \\"port\\" (1..65535)","id":5' "$T/s.out"
ok $? "server-stats needs a port"

# --- settings and a server, in namespaces ------------------------------------
[ "$(id -u)" -eq 0 ] || { skip "needs root (network namespaces, NAPI settings)"; rm -rf "$T"; done_testing; }
. "$IRQLAB_SRC/tests/netns.sh"
netns_world
trap 'exec 3>&- 2>/dev/null; kill $APID 2>/dev/null; netns_down; rm -rf "$T"' EXIT
need_feature napi_set "kernel lacks napi-set (needs Linux 6.13)"
VQ=ilvq$$
ip -n "$NS_SRV" link add "$VQ" numrxqueues 2 numtxqueues 2 type veth peer name "${VQ}p" \
	numrxqueues 2 numtxqueues 2 || skip_all "cannot create a veth with 2 queues"
chans() { srv "$IRQLAB" nic show --dev "$VQ" --json | sed -n 's/.*"channels": {"rx": \([0-9]*\), "tx": \([0-9]*\).*/\1\/\2/p'; }
before=$(napi_settings)
c0=$(chans)
is "$c0" "2/2" "the 2-queue veth starts with 2 rx and 2 tx channels"

# agent_start: an agent in the server namespace fed through a fifo (fd 3)
agent_start() {
	rm -f "$T/in"; mkfifo "$T/in"
	# not through srv(): $! must be the agent (ip netns exec execs it)
	ip netns exec "$NS_SRV" "$IRQLAB" agent --state-dir "$ST" <"$T/in" >"$T/out" 2>"$T/err" &
	APID=$!
	exec 3>"$T/in"
}
job() { echo "$1" >&3; wait_line "$T/out" "\"id\":$2}\$"; }
answer() { grep "\"id\":$1}\$" "$T/out"; }
gone() {	# gone PID: waits up to 5 s for PID to end
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	return 1
}
napi_back() {	# waits up to 5 s for the NAPI settings to read $before
	for _ in $(seq 50); do [ "$(napi_settings)" = "$before" ] && return 0; sleep 0.1; done
	return 1
}

agent_start
job '{"id":1,"op":"probe","dev":"'"$DEV_SRV"'"}' 1
answer 1 | grep -q '"root":true.*"dev":{"exists":true,"napis":1,'
ok $? "probe: root, the veth and its NAPI"
job '{"id":2,"op":"napi-set","dev":"'"$DEV_SRV"'","mode":"suspend"}' 2
answer 2 | grep -q '"ok":true'
ok $? "napi-set suspend answers ok"
is "$(napi_settings)" "100/20000/20000000" "the suspend mode's NAPI values read back"
job '{"id":3,"op":"nic-set","dev":"'"$VQ"'","queues":1}' 3
answer 3 | grep -q '"channels":{"rx":1,"tx":1,'
ok $? "nic-set queues 1 answers with the new channels"
is "$(chans)" "1/1" "channels read back 1/1"
grep -q "napi set --id .* --defer-hard-irqs" "$ST"/agent-$APID.undo &&
	grep -q "ethtool -L $VQ" "$ST"/agent-$APID.undo
ok $? "the journal holds the NAPI and channel undo lines"
PORT=$(free_port)
job '{"id":4,"op":"server-start","bin":"irqlab-kv","port":'"$PORT"',"dev":"'"$DEV_SRV"'","args":["-p","'"$PORT"'","-l","'"$SRV_IP"'","-t","1"]}' 4
SPID=$(answer 4 | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
ok $([ -n "$SPID" ]; echo $?) "server-start: irqlab-kv listens (pid $SPID)"
job '{"id":5,"op":"server-stats","host":"'"$SRV_IP"'","port":'"$PORT"'}' 5
job '{"id":6,"op":"stats-begin","cpus":"0-'"$(($(nproc) - 1))"'"}' 6
in_cli "$IRQLAB_BUILD/irqlab-load" -s "$SRV_IP:$PORT" -t 0.2 --warmup 0 --records 100 --json >"$T/l.json" 2>/dev/null
ok $? "a load generator in the client namespace reaches it"
job '{"id":7,"op":"stats-end"}' 7
job '{"id":8,"op":"server-stats","host":"'"$SRV_IP"'","port":'"$PORT"'}' 8
sent=$(json_get "$T/l.json" '$j->{totals}{gets} + $j->{totals}{sets}')
served=$(perl -MJSON::PP -ne '$j = decode_json($_); $s{$j->{id}} = $j->{stats} if $j->{id} == 5 || $j->{id} == 8; END { print $s{8}{cmd_get} + $s{8}{cmd_set} - $s{5}{cmd_get} - $s{5}{cmd_set} }' "$T/out")
ok $([ "$sent" -gt 0 ] && [ "$served" = "$sent" ]; echo $?) "server-stats: the server counted the requests the generator sent ($served = $sent)"
w=$(answer 7 | perl -MJSON::PP -ne '$j = decode_json($_); my $n = 0; $n += $_->{net_rx_per_s} for @{$j->{cpus}}; printf "%s %s %s", $n > 0 && abs($n - $j->{net_rx_per_s}) < 1 ? "netrx" : "netrx?", defined $j->{cs_per_s} && $j->{cs_per_s} > 0 ? "cs" : "cs?", defined $j->{busy_polled} ? "bpoll" : "bpoll?"')
is "$w" "netrx cs bpoll" "stats-end under load: NET_RX summed over the CPUs, the server's context switches, busy-polled packets"
echo '{"id":1,"op":"load","start_at":'"$(($(date +%s) + 1))"',"args":["-s","'"$SRV_IP:$PORT"'","-t","0.3","--warmup","0","--records","100"]}' |
	ip netns exec "$NS_CLI" "$IRQLAB" agent --state-dir "$T/cli" >"$T/load.out" 2>&1
r=$(perl -MJSON::PP -ne '$j = decode_json($_); print $j->{ok} ? $j->{summary}{requests}{gets} + $j->{summary}{requests}{sets} : "error: $j->{error}"' "$T/load.out")
ok $([ "$r" -gt 0 ] 2>/dev/null; echo $?) "a load job answers with irqlab-load's summary ($r requests)"
exec 3>&-	# EOF: what a dropped ssh connection looks like
gone "$APID"
ok $? "the agent ends when its stdin ends"
gone "$SPID"
ok $? "the server it started is stopped"
is "$(napi_settings)" "$before" "NAPI settings restored after EOF"
is "$(chans)" "$c0" "channels restored after EOF"
ls "$ST"/agent-*.undo >/dev/null 2>&1
ok $((! $?)) "the journal is removed"

for sig in TERM KILL; do
	agent_start
	job '{"id":1,"op":"napi-set","dev":"'"$DEV_SRV"'","mode":"suspend"}' 1
	job '{"id":2,"op":"nic-set","dev":"'"$VQ"'","queues":1}' 2
	is "$(napi_settings)/$(chans)" "100/20000/20000000/1/1" "SIG$sig case: settings changed"
	job '{"id":3,"op":"server-start","bin":"irqlab-kv","port":'"$PORT"',"args":["-p","'"$PORT"'","-l","'"$SRV_IP"'","-t","1"]}' 3
	SPID=$(answer 3 | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
	[ -f "$ST/agent-$APID-server.log" ]
	ok $? "SIG$sig case: the server's log is in the state dir while it runs"
	kill -$sig "$APID"
	gone "$APID"; napi_back
	is "$(napi_settings)" "$before" "NAPI settings restored after SIG$sig"
	is "$(chans)" "$c0" "channels restored after SIG$sig"
	gone "$SPID"
	ok $? "the server is stopped after SIG$sig"
	exec 3>&-
	sleep 0.2
	left=$(ls "$ST" | grep "^agent-$APID")
	ok $([ -z "$left" ]; echo $?) "no journal or server log left after SIG$sig" || diag "$left"
done

# Agent and guard both killed: the journal is what is left.
agent_start
job '{"id":1,"op":"hello"}' 1
GPID=$(answer 1 | sed -n 's/.*"guard_pid":\([0-9]*\).*/\1/p')
job '{"id":2,"op":"napi-set","dev":"'"$DEV_SRV"'","mode":"suspend"}' 2
job '{"id":3,"op":"nic-set","dev":"'"$VQ"'","queues":1}' 3
job '{"id":5,"op":"server-start","bin":"irqlab-kv","port":'"$PORT"',"args":["-p","'"$PORT"'","-l","'"$SRV_IP"'","-t","1"]}' 5
# a fake irqbalance (sleep by that name), when no real one runs
fake_ib() { pgrep -f "^$T/irqbalance 600" | head -n 1; }
IB=
if ! pgrep -x irqbalance >/dev/null; then
	cp "$(command -v sleep)" "$T/irqbalance" && "$T/irqbalance" 600 & IB=$!
	for _ in $(seq 50); do [ "$(fake_ib)" = "$IB" ] && break; sleep 0.02; done
	job '{"id":4,"op":"irqbalance-stop"}' 4
	answer 4 | grep -q "\"stopped\":$IB,\"how\":\"signal\","
	ok $? "irqbalance-stop stopped the fake irqbalance (pid $IB)" || diag "$(answer 4)"
	grep -q "^sh 'setsid' '-f' '$T/irqbalance' '600'$" "$ST"/agent-$APID.undo
	ok $? "the journal says how to restart it"
fi
kill -KILL "$GPID"; kill -KILL "$APID"; gone "$APID"; exec 3>&-
sleep 0.3
is "$(napi_settings)/$(chans)" "100/20000/20000000/1/1" "agent and guard killed: settings stay changed"
srv "$IRQLAB" agent --restore --state-dir "$ST" >"$T/r.out" 2>&1
ok $? "irqlab agent --restore exits 0"
grep -q "^irqlab agent --restore: 1 journal(s) in $ST, 0 undo(s) failed$" "$T/r.out"
ok $? "it says how many journals it replayed"
is "$(napi_settings)" "$before" "NAPI settings restored from the journal"
is "$(chans)" "$c0" "channels restored from the journal"
if [ -n "$IB" ]; then
	wait $IB 2>/dev/null
	for _ in $(seq 50); do [ -n "$(fake_ib)" ] && break; sleep 0.02; done
	IB=$(fake_ib)
	ok $([ -n "$IB" ]; echo $?) "irqbalance restarted from the journal (pid $IB)"
	[ -n "$IB" ] && kill "$IB"
else
	skip "irqbalance runs on this machine: the fake one is not used"
fi
left=$(ls "$ST" | grep "^agent-$APID")
ok $([ -z "$left" ]; echo $?) "the replayed journal and the server's log are removed" || diag "$left"
done_testing
