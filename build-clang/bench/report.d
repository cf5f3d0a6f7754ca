build-clang/bench/report.o: bench/report.c include/irqlab/mode.h \
  include/irqlab/report.h include/irqlab/result.h bench/bench.h

include/irqlab/mode.h:

include/irqlab/report.h:

include/irqlab/result.h:

bench/bench.h:
