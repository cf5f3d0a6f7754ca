build-clang/tests/lib_dist: tests/unit/lib_dist.c include/irqlab/dist.h \
  tests/tap.h

include/irqlab/dist.h:

tests/tap.h:
