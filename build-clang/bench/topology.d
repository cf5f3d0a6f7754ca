build-clang/bench/topology.o: bench/topology.c bench/bench.h \
  include/irqlab/report.h include/irqlab/result.h

bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:
