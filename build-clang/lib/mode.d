build-clang/lib/mode.o: lib/mode.c include/irqlab/compat.h \
  include/irqlab/mode.h include/irqlab/opt.h

include/irqlab/compat.h:

include/irqlab/mode.h:

include/irqlab/opt.h:
