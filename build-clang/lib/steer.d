build-clang/lib/steer.o: lib/steer.c include/irqlab/loop.h \
  include/irqlab/mode.h

include/irqlab/loop.h:

include/irqlab/mode.h:
