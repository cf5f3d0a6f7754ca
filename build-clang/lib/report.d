build-clang/lib/report.o: lib/report.c include/irqlab/report.h \
  include/irqlab/result.h

include/irqlab/report.h:

include/irqlab/result.h:
