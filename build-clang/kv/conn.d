build-clang/kv/conn.o: kv/conn.c kv/conn.h include/irqlab/loop.h \
  include/irqlab/mode.h kv/buf.h kv/kv.h kv/store.h kv/proto.h \
  include/irqlab/fmt.h

kv/conn.h:

include/irqlab/loop.h:

include/irqlab/mode.h:

kv/buf.h:

kv/kv.h:

kv/store.h:

kv/proto.h:

include/irqlab/fmt.h:
