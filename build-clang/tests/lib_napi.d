build-clang/tests/lib_napi: tests/unit/lib_napi.c include/irqlab/opt.h \
  include/irqlab/compat.h include/irqlab/napi.h include/irqlab/mode.h \
  tests/tap.h

include/irqlab/opt.h:

include/irqlab/compat.h:

include/irqlab/napi.h:

include/irqlab/mode.h:

tests/tap.h:
