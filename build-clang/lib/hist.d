build-clang/lib/hist.o: lib/hist.c include/irqlab/hist.h

include/irqlab/hist.h:
