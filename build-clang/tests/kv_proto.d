build-clang/tests/kv_proto: tests/unit/kv_proto.c tests/tap.h \
  tests/unit/../../kv/proto.h include/irqlab/fmt.h \
  tests/unit/../../kv/conn.h include/irqlab/loop.h include/irqlab/mode.h \
  tests/unit/../../kv/buf.h tests/unit/../../kv/kv.h \
  tests/unit/../../kv/store.h

tests/tap.h:

tests/unit/../../kv/proto.h:

include/irqlab/fmt.h:

tests/unit/../../kv/conn.h:

include/irqlab/loop.h:

include/irqlab/mode.h:

tests/unit/../../kv/buf.h:

tests/unit/../../kv/kv.h:

tests/unit/../../kv/store.h:
