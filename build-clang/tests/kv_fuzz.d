build-clang/tests/kv_fuzz: tests/unit/kv_fuzz.c tests/tap.h \
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
