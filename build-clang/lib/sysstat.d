build-clang/lib/sysstat.o: lib/sysstat.c include/irqlab/sysstat.h

include/irqlab/sysstat.h:
