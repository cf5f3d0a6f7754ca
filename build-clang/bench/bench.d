build-clang/bench/bench.o: bench/bench.c include/irqlab/mode.h \
  include/irqlab/napi.h include/irqlab/perf.h bench/bench.h \
  include/irqlab/report.h include/irqlab/result.h bench/../cli/cli.h

include/irqlab/mode.h:

include/irqlab/napi.h:

include/irqlab/perf.h:

bench/bench.h:

include/irqlab/report.h:

include/irqlab/result.h:

bench/../cli/cli.h:
