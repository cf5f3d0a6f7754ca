build-clang/tests/lib_loop: tests/unit/lib_loop.c tests/tap.h \
  include/irqlab/loop.h include/irqlab/mode.h

tests/tap.h:

include/irqlab/loop.h:

include/irqlab/mode.h:
