#!/bin/sh
# irqlab bench across hosts, for real, on one machine: a server and two
# client "hosts" (network namespaces on a bridge), each with its own sshd
# (throwaway host and user keys in a temp dir), driven over ssh with
# --ssh 'ssh -F CONFIG' from a fourth namespace. Checks a row per mode,
# merged counts equal the per-client sums and the server's `stats` deltas,
# the server's CPU split, interrupts and softirqs for the window, NAPI
# settings changed during the run and restored after a normal end, after
# SIGINT of the local irqlab and after its ssh connection to the server is
# killed; a client whose sshd is down is named in a one-line error and
# nothing is changed.
. "$IRQLAB_SRC/tests/lib.sh"
need_root
need_cmd ip
need_cmd ethtool
need_cmd ssh
need_cmd ssh-keygen
[ -x /usr/sbin/sshd ] || skip_all "needs sshd (openssh-server; scripts/install-deps.sh installs it)"
IRQLAB=$IRQLAB_BUILD/irqlab
T=$(mktemp -d); [ -n "$MH_KEEP" ] && echo "# keeping $T"
MH_HUB=ilmh$$; MH_S=ilms$$; MH_A=ilma$$; MH_B=ilmb$$
MH_DEV=ilmd$$		# the server's device (veth, 2 queues, GRO on: it has NAPIs)
MH_SIP=198.18.20.1; MH_AIP=198.18.20.2; MH_BIP=198.18.20.3; MH_HIP=198.18.20.254
fake_ib() { pgrep -f "^$T/ib dir/irqbalance 600" | head -n 1; }
mh_down() {
	for p in "$T"/sshd-*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	for p in $(fake_ib); do kill "$p"; done	# the fake irqbalance it restarted
	for n in $MH_S $MH_A $MH_B $MH_HUB; do ip netns del "$n" 2>/dev/null; done
	[ -n "$MH_MADE_RUN_SSHD" ] && rmdir /run/sshd 2>/dev/null
	[ -n "$MH_CG" ] && rmdir "$MH_CG" 2>/dev/null
	return 0
}
mh_throttle() {	# mh_throttle PID: PID (and what it forks) gets 5% of one CPU
	if [ -f /sys/fs/cgroup/cpu/cgroup.procs ] && mkdir "/sys/fs/cgroup/cpu/ilmh$$" 2>/dev/null; then
		MH_CG=/sys/fs/cgroup/cpu/ilmh$$ MH_CG_ROOT=/sys/fs/cgroup/cpu
		echo 100000 >"$MH_CG/cpu.cfs_period_us" && echo 5000 >"$MH_CG/cpu.cfs_quota_us" || return 1
	elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null && mkdir "/sys/fs/cgroup/ilmh$$" 2>/dev/null; then
		MH_CG=/sys/fs/cgroup/ilmh$$ MH_CG_ROOT=/sys/fs/cgroup
		echo "5000 100000" >"$MH_CG/cpu.max" || return 1
	else
		return 1
	fi
	echo "$1" >"$MH_CG/cgroup.procs"
}
trap 'mh_down; [ -n "$MH_KEEP" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mh_host() {	# mh_host NS DEV IP [QUEUES]: a host on the hub's bridge
	ip netns add "$1" && ip -n "$MH_HUB" link add "h$2" numrxqueues "${4:-1}" numtxqueues "${4:-1}" \
		type veth peer name "$2" netns "$1" numrxqueues "${4:-1}" numtxqueues "${4:-1}" &&
	ip -n "$MH_HUB" link set "h$2" master br0 up &&
	ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$1" link set "$2" up && ip -n "$1" link set lo up
}
mh_sshd() {	# mh_sshd NS IP: sshd on the host's address only
	cat >"$T/sshd-$1.conf" <<EOC
ListenAddress $2
HostKey $T/hostkey
AuthorizedKeysFile $T/id.pub
PidFile $T/sshd-$1.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOC
	ip netns exec "$1" /usr/sbin/sshd -f "$T/sshd-$1.conf" -E "$T/sshd-$1.log"
}
mh_up() {
	[ -d /run/sshd ] || { mkdir -p /run/sshd && MH_MADE_RUN_SSHD=1; }
	ip netns add "$MH_HUB" && ip -n "$MH_HUB" link add br0 type bridge &&
	ip -n "$MH_HUB" link set br0 up && ip -n "$MH_HUB" link set lo up &&
	ip -n "$MH_HUB" addr add "$MH_HIP/24" dev br0 &&
	mh_host "$MH_S" "$MH_DEV" "$MH_SIP" 2 && mh_host "$MH_A" ilmda$$ "$MH_AIP" &&
	mh_host "$MH_B" ilmdb$$ "$MH_BIP" || return 1
	# the bridge forwards into the server's veth: with TSO on the hub's end
	# veth skips its NAPI (no GRO for forwarded TSO packets), so no NAPI id
	# on the server's sockets and no busy polling
	ip netns exec "$MH_HUB" ethtool -K "h$MH_DEV" tso off gso off >/dev/null &&
	ip netns exec "$MH_S" ethtool -K "$MH_DEV" gro on >/dev/null &&
	ip netns exec "$MH_A" ethtool -K ilmda$$ tso off gso off >/dev/null &&
	ip netns exec "$MH_B" ethtool -K ilmdb$$ tso off gso off >/dev/null || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$T/id" || return 1
	cat >"$T/ssh_config" <<EOC
Host *
	User root
	IdentityFile $T/id
	IdentitiesOnly yes
	UserKnownHostsFile /dev/null
	StrictHostKeyChecking no
	LogLevel ERROR
	ConnectTimeout 5
EOC
	mh_sshd "$MH_S" "$MH_SIP" && mh_sshd "$MH_A" "$MH_AIP" && mh_sshd "$MH_B" "$MH_BIP"
}
mh_up || skip_all "cannot build the namespace world (namespaces, a bridge, sshd)"
in_s() { ip netns exec "$MH_S" "$@"; }
in_s "$IRQLAB" probe --json | grep -q '"napi_set": true' || skip_all "kernel lacks napi-set (needs Linux 6.13)"
napi() {
	in_s "$IRQLAB" napi list --dev "$MH_DEV" --json | perl -ne \
		'print "$1/$2/$3\n" if /"defer_hard_irqs": (\d+).*"gro_flush_timeout_ns": (\d+).*"irq_suspend_timeout_ns": (\d+)/' | head -n 1
}
pgrep -x irqbalance >/dev/null && skip_all "irqbalance runs on this machine: the namespace server's agent would stop it"
napi_back() { for _ in $(seq 50); do [ "$(napi)" = "$before" ] && return 0; sleep 0.1; done; return 1; }
chans() { in_s "$IRQLAB" nic show --dev "$MH_DEV" --json | sed -n 's/.*"channels": {"rx": \([0-9]*\), "tx": \([0-9]*\).*/\1\/\2/p'; }
watch_napi() {	# samples the server's NAPI settings and channels into $T/seen until killed
	while :; do napi >>"$T/seen"; echo "channels $(chans)" >>"$T/seen"; sleep 0.1; done
}
before=$(napi)
ok $([ -n "$before" ]; echo $?) "the server's veth has a NAPI ($before)"
c0=$(chans)
is "$c0" "2/2" "the server's veth has 2 rx and 2 tx channels"
ip netns exec "$MH_HUB" ssh -F "$T/ssh_config" -o BatchMode=yes "$MH_SIP" true 2>"$T/ssh.err"
ok $? "ssh reaches the server namespace's sshd" || diag "$(cat "$T/ssh.err")"
bench() {	# bench OUT [options]: the multi-host bench from the hub namespace
	_o=$1; shift
	ip netns exec "$MH_HUB" "$IRQLAB" bench --server-host "$MH_SIP" --client-host "$MH_AIP" \
		--client-host "$MH_BIP" --dev "$MH_DEV" --ssh "ssh -F $T/ssh_config" \
		--remote-bin "$IRQLAB_BUILD" --records 1000 --connections 4 --no-plots -o "$_o" "$@"
}

# --- a normal run --------------------------------------------------------------
# a fake irqbalance (sleep under that name, in a path with a space): the
# server host's agent stops it for each mode and restarts it afterwards
mkdir "$T/ib dir" && cp "$(command -v sleep)" "$T/ib dir/irqbalance"
"$T/ib dir/irqbalance" 600 & FAKE=$!
: >"$T/seen"
watch_napi & WPID=$!
bench "$T/r1" --modes base,suspend --time 1 --warmup 0 --reps 1 --points 0.5 >"$T/r1.out" 2>&1
rc=$?
kill $WPID; wait $WPID 2>/dev/null
is "$rc" 0 "a two-client run ends well" || diag "$(tail -5 "$T/r1.out")"
rows() { json_get "$T/r1/results.json" "join ' ', map { \"\$_->{mode}/\$_->{kind}\" } grep { \$_->{kind} eq '$1' } @\$j"; }
is "$(rows closed)" "base/closed suspend/closed" "a closed-loop row per mode"
is "$(rows open | wc -w)" 2 "an open-loop row per mode"
for m in base suspend; do
	f0=$(ls "$T"/r1/logs/$m-closed-0-0-$MH_AIP.json 2>/dev/null); f1=$(ls "$T"/r1/logs/$m-closed-0-0-$MH_BIP.json 2>/dev/null)
	sum=$(perl -MJSON::PP -e 'my $s = 0; for (@ARGV) { local $/; open my $f, "<", $_ or die; my $j = decode_json(<$f>); $s += $j->{requests}{gets} + $j->{requests}{sets} } print "$s\n"' $f0 $f1)
	got=$(json_get "$T/r1/results.json" "(grep { \$_->{mode} eq '$m' && \$_->{kind} eq 'closed' } @\$j)[0]{requests}")
	ok $([ -n "$f0" ] && [ -n "$f1" ] && [ "$sum" -gt 0 ] && [ "$sum" = "$got" ]; echo $?) \
		"$m: merged requests ($got) = the two clients' sum ($sum)"
done
# the server's side of the same window, through the agent (stats-begin/-end)
for m in base suspend; do
	row="(grep { \$_->{mode} eq '$m' && \$_->{kind} eq 'closed' } @\$j)[0]"
	split=$(json_get "$T/r1/results.json" "join ' ', map { defined \$_ ? sprintf('%.1f', \$_) : 'null' } @{$row}{qw(cpu_user cpu_sys cpu_softirq cpu_idle)}")
	ok $(echo "$split" | perl -ane 'my $s = 0; for (@F) { exit 1 unless /^[\d.]+$/ && $_ <= 100; $s += $_ } exit(abs($s - 100) < 0.5 ? 0 : 1)'; echo $?) \
		"$m: the server's CPU split is measured, each share in 0..100, summing to 100 ($split)"
	srv=$T/r1/logs/$m-closed-0-0-$MH_SIP.json
	cores=$(json_get "$srv" "join ' ', map { my \$c = \$_; my \$s = 0; \$s += \$c->{\$_} for qw(user sys irq softirq steal idle); (grep({ \$c->{\$_} < 0 || \$c->{\$_} > 100 } qw(user sys irq softirq steal idle)) ? 'bad' : sprintf('cpu%d:%.0f', \$c->{cpu}, \$s)) } @{\$j->{window}{cpus}}")
	is "$cores" "cpu0:100" "$m: the server's file has the per-core split of its core (user..idle in 0..100)"
	irq=$(json_get "$T/r1/results.json" "$row->{irq_per_s}")
	ok $(perl -e "exit(\$ARGV[0] > 0 ? 0 : 1)" "${irq:-0}"; echo $?) "$m: server interrupts per second measured ($irq)"
	# the server's own counters (cmd_get + cmd_set) against what the clients sent
	sent=$(perl -MJSON::PP -e 'my $s = 0; for (@ARGV) { local $/; open my $f, "<", $_ or die; my $j = decode_json(<$f>); $s += $j->{totals}{gets} + $j->{totals}{sets} } print "$s\n"' \
		"$T"/r1/logs/$m-closed-0-0-$MH_AIP.json "$T"/r1/logs/$m-closed-0-0-$MH_BIP.json)
	served=$(json_get "$srv" '$j->{requests_served}')
	ok $([ "$sent" -gt 0 ] && [ "$served" = "$sent" ]; echo $?) \
		"$m: the server's stats deltas ($served) = the requests both clients sent ($sent)"
done
softirq=$(json_get "$T/r1/results.json" "join ' ', map { \$_->{softirq_per_s} } grep { \$_->{kind} eq 'closed' } @\$j")
ok $(echo "$softirq" | perl -ane 'exit((grep { $_ > 0 } @F) ? 0 : 1)'; echo $?) "NET_RX softirqs on the server core under load ($softirq per s)"
bp=$(json_get "$T/r1/results.json" "join ' ', map { \"\$_->{mode}:\" . (\$_->{busy_polled} > 0 ? 'polled' : 'none') } grep { \$_->{kind} eq 'closed' } @\$j")
is "$bp" "base:none suspend:polled" "busy-polled packets on the server: none in base, some in suspend"
grep -Eq "^- Hardware counters: ($MH_SIP: .|cycles and instructions of the server's cores)" "$T/r1/report.md"
ok $? "report.md says what the server's PMU gave" || diag "$(grep Hardware "$T/r1/report.md")"
grep -q "^100/20000/20000000$" "$T/seen"
ok $? "during the run the server's NAPI had the suspend mode's settings"
napi_back
is "$(napi)" "$before" "NAPI settings restored after a normal end"
grep -q "^channels 1/1$" "$T/seen"
ok $? "during the run the server's veth had a queue per server core (channels 1/1)"
is "$(chans)" "$c0" "channels restored after a normal end"
grep -q "^- Hosts, over ssh" "$T/r1/report.md" && grep -q "^  - client $MH_BIP: Linux" "$T/r1/report.md"
ok $? "report.md lists the hosts"
grep -Eq "^- Server device \`[^\`]+\` on $MH_SIP: driver veth version [^,]+, firmware -, bus -; before the run: channels rx 2 tx 2" "$T/r1/report.md" &&
	grep -q '"name": "veth"' "$T/r1/logs/nic-before-$MH_SIP.json"
ok $? "report.md names the server device's driver and its settings before the run" || diag "$(grep 'Server device' "$T/r1/report.md")"
is "$(grep -Ec "^  \| suspend closed 0 #0 \| ($MH_AIP|$MH_BIP) \| 0 \| [1-9][0-9]* \| [0-9]+ \|$" "$T/r1/report.md")" 2 \
	"report.md has each client's share of a run (a row per client host)" || diag "$(grep '^  |' "$T/r1/report.md")"
pgrep -x irqlab >/dev/null && pgrep -ax irqlab | grep -q " agent " 
ok $((! $?)) "no agent left on any host"
grep -q "^irqlab bench: $MH_SIP: irqbalance (pid $FAKE) stopped for the run; restarted after it ('setsid' '-f' '$T/ib dir/irqbalance' '600')$" "$T/r1.out"
ok $? "the fake irqbalance was stopped, and how it comes back is said" || diag "$(grep irqbalance "$T/r1.out")"
wait $FAKE 2>/dev/null
is "$?" 143 "it ended by SIGTERM, before the test's end"
ib_new=$(fake_ib)
ok $([ -n "$ib_new" ] && [ "$ib_new" != "$FAKE" ]; echo $?) "a new irqbalance runs after the run (pid $ib_new)"
[ -n "$ib_new" ] && kill $ib_new

# bench_bg OUT: a long suspend run in the background; IPID is irqlab's pid
# (the background shell's child), once the suspend settings are on
bench_bg() {
	bench "$1" --modes suspend --time 5 --warmup 0 --reps 3 --points none >"$1.out" 2>&1 &
	BPID=$!
	for _ in $(seq 100); do [ "$(napi)" = "100/20000/20000000" ] && break; sleep 0.1; done
	IPID=$(pgrep -P $BPID -x irqlab)
}

# --- SIGINT of the local irqlab -------------------------------------------------
bench_bg "$T/r2"
is "$(napi)" "100/20000/20000000" "SIGINT case: the suspend settings are on"
kill -INT $IPID; wait $BPID; rc=$?
is "$rc" 130 "SIGINT: exit 130"
napi_back
is "$(napi)" "$before" "SIGINT: NAPI settings restored on the server"

# --- the ssh connection to the server killed mid-run -----------------------------
bench_bg "$T/r3"
# the ssh process bench started for the server (its child)
for p in $(pgrep -P $IPID -x ssh); do
	tr '\0' ' ' </proc/$p/cmdline | grep -q " $MH_SIP " && kill -KILL $p
done
wait $BPID; rc=$?
ok $([ "$rc" -ne 0 ]; echo $?) "ssh to the server killed: bench fails (exit $rc)"
grep -v warning "$T/r3.out" | grep -q "^irqlab bench: $MH_SIP: "
ok $? "the error names the server host" || diag "$(tail -3 "$T/r3.out")"
napi_back
is "$(napi)" "$before" "ssh killed: the agent restored the server's NAPI settings"

# --- a hard kill: agent and guard on the server, then the local irqlab ------------
bench_bg "$T/r10"
for _ in $(seq 100); do [ "$(chans)" = "1/1" ] && break; sleep 0.1; done
hello=$T/r10/logs/hello-$MH_SIP.json
AP=$(json_get "$hello" '$j->{pid}'); GP=$(json_get "$hello" '$j->{guard_pid}')
ok $([ "$(chans)" = "1/1" ] && [ "$AP" -gt 0 ] && [ "$GP" -gt 0 ]; echo $?) \
	"hard-kill case: channels 1/1 during the run, the server's agent ($AP) and guard ($GP) known"
kill -KILL "$GP" "$AP"; kill -KILL "$IPID"; wait $BPID 2>/dev/null
# the ssh masters the killed bench left (60 s ControlPersist): the ssh
# processes in the hub namespace are ours; then their control directory
for p in $(ip netns pids "$MH_HUB"); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = ssh ] || continue
	d=$(tr '\0' ' ' </proc/$p/cmdline | sed -n 's|^ssh: \(/tmp/irqlab-ssh-[A-Za-z0-9]*\)/.*|\1|p')
	kill "$p"; [ -n "$d" ] && echo "$d" >>"$T/ctl-dirs"
done
sleep 0.5
is "$(chans)" "1/1" "agent, guard and irqlab killed: the channels stay changed"
ip netns exec "$MH_HUB" "$IRQLAB" bench --restore --server-host "$MH_SIP" --client-host "$MH_AIP" \
	--client-host "$MH_BIP" --ssh "ssh -F $T/ssh_config" --remote-bin "$IRQLAB_BUILD" >"$T/r10.restore" 2>&1
is "$?" 0 "irqlab bench --restore exits 0" || diag "$(cat "$T/r10.restore")"
grep -q "^$MH_SIP: restored: sh .*ethtool -L $MH_DEV" "$T/r10.restore" &&
	grep -q "^$MH_SIP: irqlab agent --restore: [1-9][0-9]* journal(s) in /run/irqlab, 0 undo(s) failed$" "$T/r10.restore"
ok $? "it replayed the server agent's journal, each line named by host" || diag "$(cat "$T/r10.restore")"
is "$(chans)" "$c0" "channels restored by irqlab bench --restore"
sleep 0.2; [ -f "$T/ctl-dirs" ] && sort -u "$T/ctl-dirs" | while read -r d; do rm -rf "$d"; done
napi_back
is "$(napi)" "$before" "NAPI settings as before (the server's own guard)"

# --- preflight refusals: nothing started, nothing changed ------------------------
# a clock 2 s off: the agents report it (--clock-skew through a wrapper)
mkdir "$T/skew" && ln -s "$IRQLAB_BUILD/irqlab-kv" "$IRQLAB_BUILD/irqlab-load" "$T/skew/" &&
	printf '#!/bin/sh\nexec %s "$@" --clock-skew 2\n' "$IRQLAB" >"$T/skew/irqlab" && chmod +x "$T/skew/irqlab"
bench "$T/r5" --modes suspend --time 1 --warmup 0 --reps 1 --points none --remote-bin "$T/skew" >"$T/r5.out" 2>&1
ok $([ $? -ne 0 ]; echo $?) "clocks 2 s apart: bench refuses"
grep -Eq "^irqlab bench: $MH_SIP: its clock is 2[0-9]{3} ms off this machine's: a common start needs synchronised clocks" "$T/r5.out"
ok $? "one line per host says by how much (server)" || diag "$(cat "$T/r5.out")"
is "$(grep -c "clock is" "$T/r5.out")" 3 "and one for each of the three hosts"
# the port taken on the server
PORT=$(free_port)
# not through in_s (a function): $! must be irqlab-kv itself (ip netns exec execs it)
ip netns exec "$MH_S" "$IRQLAB_BUILD/irqlab-kv" -p "$PORT" -t 1 >/dev/null 2>&1 & KV=$!
for _ in $(seq 50); do	# until the server's agent sees the port taken
	printf '{"id":1,"op":"probe","port":%s}\n' "$PORT" | in_s "$IRQLAB" agent --state-dir "$T/pst" 2>/dev/null |
		grep -q '"port_free":false' && break
	sleep 0.1
done
bench "$T/r6" --modes suspend --time 1 --warmup 0 --reps 1 --points none --port "$PORT" >"$T/r6.out" 2>&1
ok $([ $? -ne 0 ]; echo $?) "the port in use on the server: bench refuses"
grep -q "^irqlab bench: $MH_SIP: port $PORT is in use there (another server?): choose another with --port$" "$T/r6.out"
ok $? "the line names the server and the port" || diag "$(cat "$T/r6.out")"
kill $KV; wait $KV 2>/dev/null
is "$(napi)" "$before" "nothing changed on the server"

# another build in --remote-bin: refused, one line per host; --install
# copies this build to a per-run directory where --remote-bin lacks it
# (the hosts share this filesystem: "lacking" is an empty --remote-bin)
mkdir "$T/old" "$T/empty" && ln -s "$IRQLAB" "$IRQLAB_BUILD/irqlab-kv" "$T/old/" &&
	cp "$IRQLAB_BUILD/irqlab-load" "$T/old/" && echo >>"$T/old/irqlab-load"
bench "$T/r7" --modes suspend --time 1 --warmup 0 --reps 1 --points none --remote-bin "$T/old" >"$T/r7.out" 2>&1
ok $([ $? -ne 0 ]; echo $?) "another build of irqlab-load on the hosts: bench refuses"
grep -Eq "^irqlab bench: $MH_AIP: its irqlab-load is another build \([0-9a-f]{8} there, [0-9a-f]{8} here\): copy this build there, or use --install$" "$T/r7.out"
ok $? "the line names the host and the binary" || diag "$(cat "$T/r7.out")"
is "$(grep -c "another build" "$T/r7.out")" 3 "one line for each host"
bench "$T/r8" --modes suspend --time 1 --warmup 0 --reps 1 --rates 3000 --remote-bin "$T/empty" --install >"$T/r8.out" 2>&1
is "$?" 0 "--install with an empty --remote-bin: the run ends well" || diag "$(tail -5 "$T/r8.out")"
# --rates: the open-loop target is the total, split evenly over the clients
is "$(json_get "$T/r8/results.json" "join ' ', map { \$_->{target_qps} } grep { \$_->{kind} eq 'open' } @\$j")" 3000 \
	"--rates 3000: one open-loop row with that target"
split=$(perl -MJSON::PP -e 'my @t; my $q = 0; for (@ARGV) { local $/; open my $f, "<", $_ or die; my $j = decode_json(<$f>); push @t, $j->{config}{target_qps}; $q += $j->{qps} } printf "%s %.0f\n", join("+", @t), $q' \
	"$T"/r8/logs/suspend-open-3000-0-$MH_AIP.json "$T"/r8/logs/suspend-open-3000-0-$MH_BIP.json)
is "${split% *}" "1500+1500" "each client host was given half of it"
is "${split#* }" "$(json_get "$T/r8/results.json" "sprintf '%.0f', (grep { \$_->{kind} eq 'open' } @\$j)[0]{qps}")" \
	"the row's QPS is the clients' sum"
is "$(grep -c "^irqlab bench: .*: this build installed in /tmp/irqlab-run\.[A-Za-z0-9]* for the run (none in --remote-bin)$" "$T/r8.out")" 3 \
	"this build installed on each host" || diag "$(grep install "$T/r8.out")"
is "$(json_get "$T/r8/results.json" 'scalar @$j')" 2 "rows from the installed binaries"
left=0
for d in $(sed -n 's/.* installed in \(\/tmp\/irqlab-run\.[A-Za-z0-9]*\) .*/\1/p' "$T/r8.out"); do
	[ -e "$d" ] && left=$((left + 1)) && rm -rf "$d"
done
is "$left" 0 "the per-run directories are removed after the run"
is "$(napi)" "$before" "NAPI settings restored after the --install run"

# --- memcached under the preload shim as the server --------------------------------
if command -v memcached >/dev/null; then
	: >"$T/seen"
	watch_napi & WPID=$!
	bench "$T/r9" --server memcached --modes suspend --time 1 --warmup 0 --reps 1 --points none >"$T/r9.out" 2>&1
	rc=$?
	kill $WPID; wait $WPID 2>/dev/null
	is "$rc" 0 "--server memcached across hosts: the run ends well" || diag "$(tail -5 "$T/r9.out")"
	is "$(json_get "$T/r9/results.json" "join ' ', map { \"\$_->{mode}/\$_->{kind}\" } @\$j")" "suspend/closed" "a row from memcached"
	grep -q "^100/20000/20000000$" "$T/seen"
	ok $? "the shim gave the server's NAPI the suspend settings during the run"
	napi_back
	is "$(napi)" "$before" "and they are restored after it"
	srv=$T/r9/logs/suspend-closed-0-0-$MH_SIP.json
	is "$(json_get "$srv" '$j->{requests_served}')" "$(json_get "$srv" '$j->{requests_sent}')" \
		"memcached's stats deltas = the requests both clients sent"
	grep -q "^- Server: memcached under libirqlab-preload.so" "$T/r9/report.md"
	ok $? "report.md names memcached as the server"
else
	skip "no memcached here: --server memcached across hosts not run"
fi

# --- a slow client host: client A's sshd, and so its agent and irqlab-load,
# limited to 5% of a CPU; one low run is noise, a client low in most runs is said
grep -Eq "limits the run|slow client host" "$T/r1.out"
ok $((! $?)) "the normal run: no client called slow" || diag "$(grep -E 'limits the run|slow client' "$T/r1.out")"
if mh_throttle "$(cat "$T/sshd-$MH_A.pid")"; then
	bench "$T/r11" --modes base --time 1 --warmup 0 --reps 2 --points 0.5 >"$T/r11.out" 2>&1
	is "$?" 0 "a run with a throttled client host ends well" || diag "$(tail -5 "$T/r11.out")"
	grep -Eq "^irqlab bench: warning: $MH_AIP: below 80% of the other clients' QPS, or alone short of its target, in [34] of 4 runs \(median [0-9]+% of their QPS\): a slow client host" "$T/r11.out"
	ok $? "bench says which client host was slow, and in how many runs" || diag "$(grep -i slow "$T/r11.out")"
	grep -Eq "^irqlab bench: $MH_AIP: warning: its irqlab-load reached [0-9]+ of the [0-9]+ QPS it was given in base open [0-9]+ #[01], the other clients all of theirs: this client host limits the run$" "$T/r11.out"
	ok $? "an open-loop run where it missed its target and the other did not is said at once" || diag "$(grep -i limits "$T/r11.out")"
	grep -q "$MH_BIP: below 80%\|$MH_BIP: warning: its irqlab-load" "$T/r11.out"
	ok $((! $?)) "the other client is not called slow"
	grep -q "another client?" "$T/r11.out"
	ok $((! $?)) "the slow client's requests still in flight at its end are not taken for another client" || diag "$(grep 'another client' "$T/r11.out")"
	grep -q "^- Slow client host $MH_AIP: below 80%" "$T/r11/report.md"
	ok $? "report.md says it under the per-host table"
	echo "$(cat "$T/sshd-$MH_A.pid")" >"$MH_CG_ROOT/cgroup.procs"
else
	for _ in 1 2 3 4 5 6; do skip "no cgroup cpu controller to make a client host slow"; done
fi

# --- a client whose sshd is down ----------------------------------------------------
kill "$(cat "$T/sshd-$MH_B.pid")"; rm -f "$T/sshd-$MH_B.pid"
sleep 0.2
bench "$T/r4" --modes suspend --time 1 --warmup 0 --reps 1 --points none >"$T/r4.out" 2>&1
ok $([ $? -ne 0 ]; echo $?) "a client without sshd: bench fails"
grep -q "^irqlab bench: $MH_BIP: ssh: connect to host $MH_BIP port 22: Connection refused" "$T/r4.out"
ok $? "one line names the client and why" || diag "$(cat "$T/r4.out")"
is "$(grep -c "$MH_BIP" "$T/r4.out")" 1 "and only one"
is "$(napi)" "$before" "nothing changed on the server"
done_testing
