build-clang/lib/perf.o: lib/perf.c include/irqlab/perf.h

include/irqlab/perf.h:
