build-clang/kv/proto_meta.o: kv/proto_meta.c kv/proto.h \
  include/irqlab/fmt.h kv/conn.h include/irqlab/loop.h \
  include/irqlab/mode.h kv/buf.h kv/kv.h kv/store.h

kv/proto.h:

include/irqlab/fmt.h:

kv/conn.h:

include/irqlab/loop.h:

include/irqlab/mode.h:

kv/buf.h:

kv/kv.h:

kv/store.h:
