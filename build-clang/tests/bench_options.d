build-clang/tests/bench_options: tests/unit/bench_options.c \
  include/../bench/bench.h include/irqlab/report.h \
  include/irqlab/result.h tests/tap.h

include/../bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:

tests/tap.h:
