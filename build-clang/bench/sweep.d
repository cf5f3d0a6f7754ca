build-clang/bench/sweep.o: bench/sweep.c include/irqlab/report.h \
  include/irqlab/result.h bench/bench.h

include/irqlab/report.h:

include/irqlab/result.h:

bench/bench.h:
