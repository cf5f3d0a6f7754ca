build-clang/tests/lib_opt: tests/unit/lib_opt.c include/irqlab/opt.h \
  tests/tap.h

include/irqlab/opt.h:

tests/tap.h:
