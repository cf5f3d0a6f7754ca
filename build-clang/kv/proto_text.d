build-clang/kv/proto_text.o: kv/proto_text.c kv/proto.h \
  include/irqlab/fmt.h kv/conn.h include/irqlab/loop.h \
  include/irqlab/mode.h kv/buf.h kv/kv.h kv/store.h kv/stats.h

kv/proto.h:

include/irqlab/fmt.h:

kv/conn.h:

include/irqlab/loop.h:

include/irqlab/mode.h:

kv/buf.h:

kv/kv.h:

kv/store.h:

kv/stats.h:
