build-clang/load/main.o: load/main.c load/load.h include/irqlab/clock.h \
  include/irqlab/dist.h include/irqlab/hist.h include/irqlab/load_opts.h \
  include/irqlab/load_summary.h

load/load.h:

include/irqlab/clock.h:

include/irqlab/dist.h:

include/irqlab/hist.h:

include/irqlab/load_opts.h:

include/irqlab/load_summary.h:
