build-clang/lib/loop.o: lib/loop.c include/irqlab/loop.h \
  include/irqlab/mode.h include/irqlab/compat.h

include/irqlab/loop.h:

include/irqlab/mode.h:

include/irqlab/compat.h:
