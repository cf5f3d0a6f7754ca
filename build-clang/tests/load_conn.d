build-clang/tests/load_conn: tests/unit/load_conn.c \
  tests/unit/../../load/load.h include/irqlab/clock.h \
  include/irqlab/dist.h include/irqlab/hist.h include/irqlab/load_opts.h \
  include/irqlab/load_summary.h tests/tap.h

tests/unit/../../load/load.h:

include/irqlab/clock.h:

include/irqlab/dist.h:

include/irqlab/hist.h:

include/irqlab/load_opts.h:

include/irqlab/load_summary.h:

tests/tap.h:
