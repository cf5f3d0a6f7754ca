build-clang/lib/nl_netdev.o: lib/nl_netdev.c include/irqlab/compat.h \
  include/irqlab/napi.h include/irqlab/mode.h

include/irqlab/compat.h:

include/irqlab/napi.h:

include/irqlab/mode.h:
