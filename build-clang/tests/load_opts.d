build-clang/tests/load_opts: tests/unit/load_opts.c \
  include/irqlab/load_opts.h include/irqlab/dist.h tests/tap.h

include/irqlab/load_opts.h:

include/irqlab/dist.h:

tests/tap.h:
