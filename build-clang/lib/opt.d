build-clang/lib/opt.o: lib/opt.c include/irqlab/opt.h

include/irqlab/opt.h:
