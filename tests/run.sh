#!/bin/sh
# Runs the test suite under prove. Unit tests are the binaries in
# $IRQLAB_BUILD/tests; integration tests are tests/integration/*.sh.
#   run.sh all    every unit and integration test
#   run.sh asan   unit tests, plus integration tests marked "# asan: yes"
set -e
: "${IRQLAB_BUILD:?IRQLAB_BUILD must point at the build directory}"
export IRQLAB_BUILD IRQLAB_SRC="$(cd "$(dirname "$0")/.." && pwd)"
suite=${1:-all}

units=$(find "$IRQLAB_BUILD/tests" -maxdepth 1 -type f -perm -u+x | sort)
case "$suite" in
all)  integ=$(ls tests/integration/*.sh 2>/dev/null || true) ;;
asan) integ=$(grep -l '^# asan: yes' tests/integration/*.sh 2>/dev/null || true) ;;
*)    echo "run.sh: unknown suite '$suite' (all, asan)" >&2; exit 2 ;;
esac
[ -n "$units$integ" ] || { echo "run.sh: no tests found" >&2; exit 1; }
echo "== $suite: $(echo $units | wc -w) unit, $(echo $integ | wc -w) integration"
# ASan's leak checker needs ptrace-free /proc access; keep reports readable.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec prove --exec "$IRQLAB_SRC/tests/with-timeout" ${PROVE_FLAGS:---timer} $units $integ
