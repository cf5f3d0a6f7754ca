build-clang/load/conn.o: load/conn.c include/irqlab/fmt.h load/load.h \
  include/irqlab/clock.h include/irqlab/dist.h include/irqlab/hist.h \
  include/irqlab/load_opts.h include/irqlab/load_summary.h

include/irqlab/fmt.h:

load/load.h:

include/irqlab/clock.h:

include/irqlab/dist.h:

include/irqlab/hist.h:

include/irqlab/load_opts.h:

include/irqlab/load_summary.h:
