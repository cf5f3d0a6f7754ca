build-clang/lib/experiment.o: lib/experiment.c include/irqlab/opt.h \
  include/irqlab/experiment.h include/irqlab/dist.h \
  include/irqlab/mode.h

include/irqlab/opt.h:

include/irqlab/experiment.h:

include/irqlab/dist.h:

include/irqlab/mode.h:
