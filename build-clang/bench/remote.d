build-clang/bench/remote.o: bench/remote.c include/irqlab/mode.h \
  bench/bench.h include/irqlab/report.h include/irqlab/result.h

include/irqlab/mode.h:

bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:
