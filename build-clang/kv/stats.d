build-clang/kv/stats.o: kv/stats.c kv/stats.h kv/buf.h kv/kv.h \
  include/irqlab/loop.h include/irqlab/mode.h kv/store.h

kv/stats.h:

kv/buf.h:

kv/kv.h:

include/irqlab/loop.h:

include/irqlab/mode.h:

kv/store.h:
