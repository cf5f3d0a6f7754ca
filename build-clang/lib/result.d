build-clang/lib/result.o: lib/result.c include/irqlab/result.h

include/irqlab/result.h:
