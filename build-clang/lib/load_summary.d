build-clang/lib/load_summary.o: lib/load_summary.c \
  include/irqlab/load_summary.h include/irqlab/hist.h \
  include/irqlab/load_opts.h include/irqlab/dist.h

include/irqlab/load_summary.h:

include/irqlab/hist.h:

include/irqlab/load_opts.h:

include/irqlab/dist.h:
