build-clang/bench/run.o: bench/run.c include/irqlab/perf.h \
  include/irqlab/sysstat.h bench/bench.h include/irqlab/report.h \
  include/irqlab/result.h

include/irqlab/perf.h:

include/irqlab/sysstat.h:

bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:
