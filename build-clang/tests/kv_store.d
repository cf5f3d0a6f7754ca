build-clang/tests/kv_store: tests/unit/kv_store.c tests/tap.h \
  tests/unit/../../kv/store.h tests/unit/../../kv/buf.h \
  tests/unit/../../kv/kv.h include/irqlab/loop.h include/irqlab/mode.h

tests/tap.h:

tests/unit/../../kv/store.h:

tests/unit/../../kv/buf.h:

tests/unit/../../kv/kv.h:

include/irqlab/loop.h:

include/irqlab/mode.h:
