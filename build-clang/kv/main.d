build-clang/kv/main.o: kv/main.c include/irqlab/opt.h \
  include/irqlab/loop.h include/irqlab/mode.h include/irqlab/napi.h \
  kv/conn.h kv/buf.h kv/kv.h kv/store.h

include/irqlab/opt.h:

include/irqlab/loop.h:

include/irqlab/mode.h:

include/irqlab/napi.h:

kv/conn.h:

kv/buf.h:

kv/kv.h:

kv/store.h:
