#!/bin/sh
# The simulated recommendation table (docs/tune.md): irqlab tune --sim CONF
# at each rate x each p99 target; one tune per cell, its files in
# OUT/<rate>-<target>/ (a cell already there is not run again, so the table
# can be built in pieces); prints the markdown table from what is there.
#   sh tune/table.sh [-o OUT] CONF "200000 400000" "150us 250us" [tune options...]
set -u
OUT=tune-table
[ "${1:-}" = -o ] && { OUT=$2; shift 2; }
CONF=$1 RATES=$2 TARGETS=$3; shift 3
B=${IRQLAB_BUILD:-build}/irqlab
mkdir -p "$OUT"
for q in $RATES; do for t in $TARGETS; do
	d=$OUT/$q-$t
	[ -s "$d/stdout" ] && continue
	mkdir -p "$d"
	"$B" tune --sim "$CONF" --qps "$q" --slo "p99<=$t" "$@" -o "$d" > "$d/stdout.tmp" 2> "$d/stderr"
	echo $? > "$d/rc"
	mv "$d/stdout.tmp" "$d/stdout"
done; done
echo "| rate | p99 target | verdict | recommended --mode (NIC) | p99 µs [95% CI] | server CPU % [95% CI] | runs, wall s |"
echo "|---|---|---|---|---|---|---|"
for q in $RATES; do for t in $TARGETS; do
	f=$OUT/$q-$t/stdout
	[ -s "$f" ] || { echo "| $q | $t | not run | | | | |"; continue; }
	awk -v q="$q" -v t="$t" '
	/^searched/ { match($0, /[0-9]+ runs/); runs = substr($0, RSTART, RLENGTH - 5)
		match($0, /, [0-9.]+ s of/); wall = substr($0, RSTART + 2, RLENGTH - 7) }
	/^recommendation/ { v = "winner"; want = 1; next }
	/^no single winner/ { v = "tie"; want = 1; next }
	/^undecided/ { v = "undecided" }
	/^infeasible/ { v = "infeasible" }
	/^closest:/ { sub(/^closest: /, ""); cl = $0 }
	want == 1 { line = $0; sub(/^ +c[0-9]+  --mode /, "", line); gsub(/\047/, "", line); mode = line; want = 2; next }
	want == 2 { ev = $0; want = 0 }
	END {
		if (v == "winner" || v == "tie") {
			nic = ""; if (match(mode, /NIC coalescing: [a-z]+/)) { nic = " (NIC " substr(mode, RSTART + 16, RLENGTH - 16) ")"; sub(/  NIC coalescing: [a-z]+/, "", mode) }
			match(ev, /p99 [0-9.]+us \[[^]]*\]/); lat = substr(ev, RSTART + 4, RLENGTH - 4); sub(/us/, "", lat)
			match(ev, /CPU [0-9.]+% \[[^]]*\]/); cpu = substr(ev, RSTART + 4, RLENGTH - 4); sub(/%/, "", cpu)
			printf "| %dK | %s | %s | `%s`%s | %s | %s | %s, %s |\n", q / 1000, t, v, mode, nic, lat, cpu, runs, wall
		} else
			printf "| %dK | %s | %s | closest: %s | | | %s, %s |\n", q / 1000, t, v, cl, runs, wall
	}' "$f"
done; done
