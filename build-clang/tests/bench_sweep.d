build-clang/tests/bench_sweep: tests/unit/bench_sweep.c \
  include/../bench/bench.h include/irqlab/report.h \
  include/irqlab/result.h tests/tap.h

include/../bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:

tests/tap.h:
