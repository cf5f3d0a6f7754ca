build-clang/tests/lib_mode: tests/unit/lib_mode.c include/irqlab/mode.h \
  tests/tap.h

include/irqlab/mode.h:

tests/tap.h:
