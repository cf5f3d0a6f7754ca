build-clang/lib/dist.o: lib/dist.c include/irqlab/dist.h

include/irqlab/dist.h:
