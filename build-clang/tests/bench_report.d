build-clang/tests/bench_report: tests/unit/bench_report.c \
  include/../bench/bench.h include/irqlab/report.h \
  include/irqlab/result.h tests/tap.h

include/../bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:

tests/tap.h:
