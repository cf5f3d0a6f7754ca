build-clang/tests/lib_hist: tests/unit/lib_hist.c include/irqlab/dist.h \
  include/irqlab/hist.h tests/tap.h

include/irqlab/dist.h:

include/irqlab/hist.h:

tests/tap.h:
