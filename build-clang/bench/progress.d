build-clang/bench/progress.o: bench/progress.c bench/bench.h \
  include/irqlab/report.h include/irqlab/result.h

bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:
