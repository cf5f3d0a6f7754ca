build-clang/lib/preload.o: lib/preload.c include/irqlab/compat.h \
  include/irqlab/mode.h include/irqlab/napi.h

include/irqlab/compat.h:

include/irqlab/mode.h:

include/irqlab/napi.h:
