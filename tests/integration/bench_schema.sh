#!/bin/sh
# The documented JSON schema (docs/result-schema.md) is what the validator
# enforces: a good document passes, broken ones fail for the right reason.
# asan: yes
. "$IRQLAB_SRC/tests/lib.sh"
need_cmd perl
CHK="perl $IRQLAB_SRC/bench/schema-check.pl $IRQLAB_SRC/docs/result-schema.md"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

row='"schema": 1, "mode": "base", "kind": "closed", "source": "measured", "server": "irqlab-kv", "rep": 0, "target_qps": 0, "qps": 1000.5, "duration_s": 1, "requests": 1000, "errors": 0, "p50_us": 10, "p95_us": 20, "p99_us": 30, "cpu_user": 10, "cpu_sys": 20, "cpu_softirq": 5, "cpu_idle": 65, "irq_per_s": 100, "softirq_per_s": 50, "gen_irq_per_s": 1, "gen_softirq_per_s": 1, "cs_per_s": 5, "busy_polled": 0, "cycles": null, "instructions": null, "ipc": null, "cpq": null, "ipq": null, "gen_cpu": 50, "noise_cpu": 0.1, "flagged": 0'
echo "[{$row, \"note\": \"\"}]" > "$T/good.json"
$CHK "$T/good.json" >/dev/null; ok $? "a complete row validates"

echo "[{$row}]" > "$T/missing.json"
$CHK "$T/missing.json" 2>"$T/err" >/dev/null; ok $((! $?)) "a missing field fails"
grep -q "missing 'note'" "$T/err"; ok $? "and names the field"

echo "[{$row, \"note\": \"\", \"extra\": 1}]" > "$T/extra.json"
$CHK "$T/extra.json" 2>/dev/null >/dev/null; ok $((! $?)) "an unknown field fails"

sed 's/"kind": "closed"/"kind": "half"/' "$T/good.json" > "$T/enum.json"
$CHK "$T/enum.json" 2>/dev/null >/dev/null; ok $((! $?)) "kind outside its enum fails"

sed 's/"qps": 1000.5/"qps": "1000"/' "$T/good.json" > "$T/type.json"
$CHK "$T/type.json" 2>/dev/null >/dev/null; ok $((! $?)) "a number written as a string fails"

sed 's/"rep": 0/"rep": 0.5/' "$T/good.json" > "$T/int.json"
$CHK "$T/int.json" 2>/dev/null >/dev/null; ok $((! $?)) "a fractional rep fails"

sed 's/"qps": 1000.5/"qps": -3/' "$T/good.json" > "$T/min.json"
$CHK "$T/min.json" 2>/dev/null >/dev/null; ok $((! $?)) "a negative rate fails"
done_testing
