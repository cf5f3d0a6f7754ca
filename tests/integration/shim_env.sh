#!/bin/sh
# The preload shim seen from an unmodified program (tests/helpers/modes_wait):
# EPIOCSPARAMS lands on epoll fds from both epoll_create and epoll_create1,
# spin modes busy poll yet respect the application's timeout, events still
# end a spinning wait, and a bad environment stops the program with a
# one-line message naming the variable (exit 2) before it runs.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
SHIM=$IRQLAB_BUILD/libirqlab-preload.so
WAIT=$IRQLAB_BUILD/tests/helpers/modes_wait
[ -f "$SHIM" ] || skip_all "needs $SHIM (make)"
[ -x "$WAIT" ] || skip_all "needs $WAIT (make)"
# Under ASan (make asan) the helper is instrumented too; ASan's runtime must
# come first in the preload list, before the instrumented shim.
PRELOAD=$SHIM
if [ -n "$IRQLAB_ASAN" ]; then
	_rt=$(ldd "$WAIT" 2>/dev/null | awk '/libasan/ { print $3 }')
	[ -n "$_rt" ] && PRELOAD="$_rt $SHIM"
fi
OUT=$(mktemp)
ERR=$(mktemp)
trap 'rm -f "$OUT" "$ERR"' EXIT

# shim VAR=VAL... -- ARGS: runs modes_wait under the shim, status in RC.
shim() {
	_env=""
	while [ "$1" != "--" ]; do _env="$_env $1"; shift; done
	shift
	env $_env LD_PRELOAD="$PRELOAD" "$WAIT" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$OUT" | head -n 1; }
# Wall-clock bounds are loose (a shared 2-core machine); what matters is
# "waited about the timeout" versus "returned at once" or "never returned".
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# Parameters per preset as the kernel reports them (EPIOCGPARAMS, 6.9+).
if ! "$WAIT" 0 | grep -q 'create1=[0-9]'; then
	skip "kernel lacks EPIOCGPARAMS (needs Linux 6.9)"
else
	for m in base:0/0/0 defer:0/0/0 napibusy:64/64/1 busywait:1000/64/1 suspend:0/64/1; do
		shim IRQLAB_MODE=${m%%:*} -- 0
		is "$(field create1)/$(field create)" "${m#*:}/${m#*:}" \
			"${m%%:*}: epoll_create1 and epoll_create fds get ${m#*:}"
	done
	shim IRQLAB_MODE=napibusy IRQLAB_BUSY_POLL_USECS=20us IRQLAB_PREFER_BUSY_POLL=0 -- 0
	is "$(field create1)" "20/64/0" "IRQLAB_<KNOB> overrides the preset"
fi

# Blocking modes leave epoll_wait alone: no spins counted.
shim IRQLAB_MODE=napibusy IRQLAB_VERBOSE=1 -- 100
grep -q 'napibusy: epoll fds 2 (configured 2, failed 0), waits 1, spins 0' "$ERR"
ok $? "napibusy: verbose summary counts 2 fds configured, 1 wait, 0 spins"

# Spin mode, timeout 300 ms, nothing arrives: many 1 ns polls, then 0
# after about the timeout.
shim IRQLAB_MODE=busywait IRQLAB_VERBOSE=1 -- 300
is "$(field n)" 0 "busywait: a wait with no event returns 0"
between "$(field ms)" 290 1500
ok $? "busywait: the application's 300 ms timeout is respected ($(field ms) ms)"
spins=$(sed -n 's/.*spins \([0-9]*\).*/\1/p' "$ERR")
[ "${spins:-0}" -gt 10 ]
ok $? "busywait: the wait became a loop of polls (${spins:-none} spins)"

# Spin mode, blocking timeout (-1), an event after 100 ms ends the wait.
shim IRQLAB_MODE=busywait -- -1 100
is "$(field n)" 1 "busywait: an event ends an infinite wait"
between "$(field ms)" 90 1500
ok $? "busywait: ... after about 100 ms ($(field ms) ms)"

# The epoll_pwait path (sigmask) spins the same way.
shim IRQLAB_MODE=busywait -- --pwait 2000 100
is "$(field n)" 1 "busywait: epoll_pwait with a sigmask also returns the event"

# Timeout 0 gets exactly one 1 ns poll (a real busy poll), not a loop.
shim IRQLAB_MODE=busywait IRQLAB_VERBOSE=1 -- 0
grep -q 'waits 1, spins 1,' "$ERR"
ok $? "busywait: timeout 0 is one poll, returns at once"

# Bad environment: exit 2, one line naming the variable, program not run.
bad() {	# bad "VAR=VAL ..." "expected message part"
	shim $1 -- 0
	_msg=$(cat "$ERR")
	[ "$RC" -eq 2 ] && [ ! -s "$OUT" ] && [ "$(wc -l <"$ERR")" -eq 1 ] &&
		echo "$_msg" | grep -q -- "$2"
	ok $? "$1: exit 2 before main, message '$_msg'"
}
bad "IRQLAB_MODE=fast" "^irqlab-preload: IRQLAB_MODE: 'fast' is not one of base, defer"
bad "IRQLAB_BUSY_POLL_USECS=abc" "IRQLAB_BUSY_POLL_USECS: 'abc' is not a time in 0-2147483647us"
bad "IRQLAB_BUSY_POLL_BUDGET=70000" "IRQLAB_BUSY_POLL_BUDGET: '70000' is not in 0-65535"
bad "IRQLAB_GRO_FLUSH_TIMEOUT=5h" "IRQLAB_GRO_FLUSH_TIMEOUT: '5h' is not a time in"
bad "IRQLAB_WAIT=sometimes" "IRQLAB_WAIT: 'sometimes' is not one of block, spin"
bad "IRQLAB_VERBOSE=yes" "IRQLAB_VERBOSE: 'yes' is not in 0-1"
bad "IRQLAB_MODE=defer IRQLAB_IRQ_SUSPEND_TIMEOUT=1ms" "irq_suspend_timeout needs prefer_busy_poll=1"
bad "IRQLAB_DEV=nosuchdev0" "IRQLAB_DEV: no device 'nosuchdev0' in this network namespace"
# Without root, or on a kernel without napi-set, the answer is EPERM or
# "needs Linux 6.13" first; all are one-line errors.
if [ "$(id -u)" -eq 0 ] && "$IRQLAB_BUILD/irqlab" probe --json 2>/dev/null |
	grep -q '"napi_set": true'; then
	bad "IRQLAB_DEV=lo" "IRQLAB_DEV=lo: lo has no NAPI"
else
	bad "IRQLAB_DEV=lo" "IRQLAB_DEV=lo: "
fi

# Budget above 64 needs CAP_NET_ADMIN: checked at load, not at the first
# epoll_create in the middle of the application.
if [ "$(id -u)" -ne 0 ]; then
	bad "IRQLAB_BUSY_POLL_BUDGET=100 IRQLAB_MODE=napibusy" "needs CAP_NET_ADMIN"
elif command -v setpriv >/dev/null 2>&1; then
	env IRQLAB_MODE=napibusy IRQLAB_BUSY_POLL_BUDGET=100 \
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		env LD_PRELOAD="$PRELOAD" "$WAIT" 0 >"$OUT" 2>"$ERR"
	RC=$?
	[ "$RC" -eq 2 ] && [ ! -s "$OUT" ] &&
		grep -q "IRQLAB_BUSY_POLL_BUDGET=100 above 64 needs CAP_NET_ADMIN" "$ERR"
	ok $? "budget 100 without CAP_NET_ADMIN: exit 2, '$(cat "$ERR")'"
else
	skip "needs setpriv to drop root"
fi
done_testing
