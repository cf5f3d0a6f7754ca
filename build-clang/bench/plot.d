build-clang/bench/plot.o: bench/plot.c include/irqlab/report.h \
  include/irqlab/result.h bench/bench.h

include/irqlab/report.h:

include/irqlab/result.h:

bench/bench.h:
