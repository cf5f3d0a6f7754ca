#!/bin/sh
# Fuzzes irqlab-kv's connections with libFuzzer (tests/unit/kv_fuzz.c:
# several connections, input split as the fuzzer likes, client reads and
# hang-ups, a clock the fuzzer moves), ASan + UBSan, and reports coverage
# per file of kv/.
#
#   scripts/kv-fuzz.sh [-t SECONDS] [-d DIR] [-c | -x]
#     -t SECONDS  fuzz this long (default 300), then print the totals and
#                 the coverage
#     -d DIR      corpus, seeds, logs and totals (default build-fuzz/run);
#                 runs add up there, so a long campaign is several short
#                 runs with the same DIR
#     -c          only the coverage of DIR's corpus (no fuzzing)
#     -x          only fuzzing (no coverage report)
#
# Seeds: every conformance script (tests/integration/kv_requests/*.txt),
# turned into the target's input format (sends of up to 4 KiB, "!sleep N"
# as a clock step, the replies read at the end). Needs clang with
# libFuzzer, llvm-profdata and llvm-cov; `make` first (build/libirqlab.a).
set -e
cd "$(dirname "$0")/.."
T=300 DIR=build-fuzz/run COV_ONLY= NO_COV=
while getopts t:d:cx o; do
	case $o in
	t) T=$OPTARG ;;
	d) DIR=$OPTARG ;;
	c) COV_ONLY=1 ;;
	x) NO_COV=1 ;;
	*) sed -n '2,19p' "$0" >&2; exit 2 ;;
	esac
done
for c in clang llvm-profdata llvm-cov perl; do
	command -v $c >/dev/null || { echo "kv-fuzz: needs $c" >&2; exit 1; }
done
[ -f build/libirqlab.a ] || make -j2 build/libirqlab.a >/dev/null
B=build-fuzz
mkdir -p "$B" "$DIR/corpus" "$DIR/seeds"
SRC=$(ls kv/*.c | grep -v kv/main.c)
CF="-g -O1 -Iinclude -Itests -I. -DKV_LIBFUZZER -std=gnu11 -pthread"
LIBS="build/libirqlab.a -lmnl -ljansson -lm -pthread"

# the fuzzer (ASan + UBSan) and the coverage build, when a source changed
newer() { [ ! -f "$1" ] || [ -n "$(find kv tests/unit/kv_fuzz.c build/libirqlab.a -newer "$1" -name '*.[ch]' -o -newer "$1" -name '*.a' | head -1)" ]; }
if newer $B/kv_fuzz; then
	clang $CF -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/unit/kv_fuzz.c $SRC $LIBS -o $B/kv_fuzz
fi
if newer $B/kv_cov; then
	clang $CF -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
		tests/unit/kv_fuzz.c $SRC $LIBS -o $B/kv_cov
fi

# seeds from the conformance scripts (the format is kv_fuzz.c's)
for f in tests/integration/kv_requests/*.txt; do
	perl -e '
		my $out = chr(0);	# 16 MB budget, no idle timeout, 1 connection
		my $stream = "";
		sub flush_sends {
			$stream = substr($stream, 0, 60000);
			while (length $stream) {
				my $n = length($stream) >= 4096 ? 4096 : length($stream) >= 256 ? 256 : length $stream;
				$out .= $n == 4096 ? chr(3 << 5) . chr(255) : chr(0) . chr($n - 1);
				$out .= substr($stream, 0, $n, "");
			}
		}
		while (my $l = <STDIN>) {
			chomp $l;
			next if $l =~ /^#/;
			if ($l =~ /^!perl (.*)$/) { $stream .= eval($1); die $@ if $@ }
			elsif ($l =~ /^!sleep (\d+)$/) { flush_sends(); $out .= chr(5 << 5) . chr($1) }
			else { $stream .= "$l\r\n" }
		}
		flush_sends();
		$out .= chr(4 << 5) . chr(255);
		print $out' <"$f" >"$DIR/seeds/$(basename "$f" .txt)"
done

if [ -z "$COV_ONLY" ]; then
	n=$(ls "$DIR"/fuzz-*.log 2>/dev/null | wc -l)
	log="$DIR/fuzz-$((n + 1)).log"
	# -max_len 16 KiB: a few commands and a 4 KiB-piece value; -timeout
	# 10 s per input; leaks checked (ASan)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$B/kv_fuzz -max_total_time="$T" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$DIR/" "$DIR/corpus" "$DIR/seeds" \
		>"$log" 2>&1 || { tail -40 "$log" >&2; echo "kv-fuzz: the fuzzer stopped: see $log" >&2; exit 1; }
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	echo "$(date -u +%FT%TZ) $T s $runs inputs" >>"$DIR/runs.txt"
	echo "kv-fuzz: $runs inputs in $T s ($log), 0 crashes/leaks/timeouts"
	awk '{ s += $4; t += $2 } END { printf "kv-fuzz: %d inputs in %d s over %d runs (%s)\n", s, t, NR, FILENAME }' "$DIR/runs.txt"
fi
[ -z "$NO_COV" ] || exit 0

# coverage of the corpus, per file of kv/
rm -f "$DIR"/cov.profraw
LLVM_PROFILE_FILE="$DIR/cov.profraw" $B/kv_cov -runs=0 "$DIR/corpus" "$DIR/seeds" >"$DIR/cov.log" 2>&1
llvm-profdata merge -o "$DIR/cov.profdata" "$DIR/cov.profraw"
llvm-cov report $B/kv_cov -instr-profile="$DIR/cov.profdata" $SRC | tee "$DIR/coverage.txt"
