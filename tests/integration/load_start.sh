#!/bin/sh
# --start-at T: a common start across hosts. irqlab-load connects and
# preloads at once, then sends nothing until the wall-clock instant T; the
# JSON says when the load started (started_at) and what was asked
# (config.start_at). A T in the past is an error naming the option.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd perl
LOAD=$IRQLAB_BUILD/irqlab-load
[ -x "$LOAD" ] || skip_all "irqlab-load not built"
[ -x "$IRQLAB_BUILD/irqlab-kv" ] || skip_all "irqlab-kv not built"
T=$(mktemp -d /tmp/irqlab-load-start.XXXXXX)
KVPID=; LPID=
cleanup() { for p in $LPID $KVPID; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT INT TERM
now() { perl -MTime::HiRes=time -e 'printf "%.6f\n", time'; }
# cmp A OP B: a numeric comparison of decimals (perl: shell has integers)
cmp() { perl -e "exit !($1 $2 $3)"; }

"$LOAD" -s 127.0.0.1:1 --start-at 1700000000 > "$T/out" 2> "$T/err"
is "$?" 2 "start in the past: exit 2"
is "$(wc -l < "$T/err")" 1 "start in the past: one line"
grep -q -- "--start-at: 1700000000.000000 is .*s in the past" "$T/err"
ok $? "start in the past: the message names the option and how late"

start_kv || { ok 1 "irqlab-kv started"; done_testing; }
# 4 s ahead: connecting and preloading 500 records takes far less, even
# on a busy 2-core machine.
AT=$(perl -MTime::HiRes=time -e 'printf "%.3f\n", time + 4')
"$LOAD" -s "127.0.0.1:$PORT" -t 0.3 --records 500 --start-at "$AT" --json \
	> "$T/run.json" 2> "$T/run.err" &
LPID=$!
# 1.5 s before T the store has the preloaded sets and no gets yet. The
# counts mean that only if their answer came before T: on a machine so
# loaded that the probe itself ran late, say so instead of guessing.
perl -MTime::HiRes=time,sleep -e 'sleep($ARGV[0] - 1.5 - time)' "$AT"
set -- $(mc_counts "$PORT")
ASKED=$(now)
if cmp "$ASKED" "<" "$AT"; then
	is "$1" 0 "no get sent before T (asked $(perl -e 'printf "%.2f", $ARGV[1] - $ARGV[0]' "$ASKED" "$AT") s before)"
	is "$2" 500 "the 500 records preloaded before T"
else
	skip "the probe ran after T ($ASKED > $AT: the machine held it up)"
	skip "the probe ran after T"
fi
wait "$LPID"; rc=$?; LPID=
END=$(now)
is "$rc" 0 "run with --start-at: exit 0"
[ "$rc" -eq 0 ] || diag "$(cat "$T/run.err")"
CFG=$(json_get "$T/run.json" '$j->{config}{start_at}')
STARTED=$(json_get "$T/run.json" '$j->{started_at}')
cmp "$CFG" == "$AT"; ok $? "config.start_at is T ($CFG)"
# The origin is T itself unless the generator woke more than 2 ms late;
# 50 ms is the bound a busy shared machine holds.
cmp "$STARTED" ">=" "$AT" && cmp "$STARTED" "<" "$AT + 0.05"
ok $? "started_at within [T, T+50ms] (started $STARTED for T $AT)"
cmp "$END" ">=" "$AT + 0.3"; ok $? "ended after T plus the measured 0.3 s"
GETS=$(json_get "$T/run.json" '$j->{requests}{gets}')
cmp "$GETS" ">" 0; ok $? "gets measured after the start ($GETS)"
# A start more than 1 ms late (the generator woke late) is warned about,
# and only then.
LATE=$(perl -e 'print $ARGV[0] - $ARGV[1] > 0.001 ? 1 : 0' "$STARTED" "$AT")
is "$(json_get "$T/run.json" 'scalar grep { /after --start-at/ } @{$j->{warnings}}')" "$LATE" \
	"a warning exactly when the start was more than 1 ms late (late: $LATE)"

# Without --start-at: config.start_at is null, started_at the wall clock.
B=$(now)
"$LOAD" -s "127.0.0.1:$PORT" -t 0.1 --records 500 --noload --json > "$T/now.json" 2>&1
is "$?" 0 "run without --start-at: exit 0"
is "$(json_get "$T/now.json" 'defined $j->{config}{start_at} ? "set" : "null"')" null \
	"config.start_at null without the option"
STARTED=$(json_get "$T/now.json" '$j->{started_at}')
cmp "$STARTED" ">=" "$B" && cmp "$STARTED" "<=" "$(now)"
ok $? "started_at between the command's start and end"

# SIGTERM while waiting: a clear message, exit 1, nothing sent.
set -- $(mc_counts "$PORT"); GETS0=$1
AT=$(perl -MTime::HiRes=time -e 'printf "%.3f\n", time + 30')
"$LOAD" -s "127.0.0.1:$PORT" -t 0.3 --records 500 --noload --start-at "$AT" \
	> "$T/int.out" 2> "$T/int.err" &
LPID=$!
sleep 1
kill -TERM "$LPID"; wait "$LPID"; rc=$?; LPID=
is "$rc" 1 "terminated while waiting: exit 1"
grep -q "interrupted while waiting for --start-at" "$T/int.err"; ok $? "terminated while waiting: said so"
set -- $(mc_counts "$PORT")
is "$1" "$GETS0" "terminated while waiting: no get sent"
done_testing
