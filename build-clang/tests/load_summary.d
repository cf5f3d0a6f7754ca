build-clang/tests/load_summary: tests/unit/load_summary.c \
  include/irqlab/dist.h include/irqlab/load_summary.h \
  include/irqlab/hist.h include/irqlab/load_opts.h tests/tap.h

include/irqlab/dist.h:

include/irqlab/load_summary.h:

include/irqlab/hist.h:

include/irqlab/load_opts.h:

tests/tap.h:
