build-clang/lib/napi.o: lib/napi.c include/irqlab/compat.h \
  include/irqlab/napi.h include/irqlab/mode.h include/irqlab/result.h

include/irqlab/compat.h:

include/irqlab/napi.h:

include/irqlab/mode.h:

include/irqlab/result.h:
