build-clang/sim/report.o: sim/report.c sim/sim.h include/irqlab/dist.h \
  include/irqlab/experiment.h include/irqlab/mode.h \
  include/irqlab/hist.h include/irqlab/result.h

sim/sim.h:

include/irqlab/dist.h:

include/irqlab/experiment.h:

include/irqlab/mode.h:

include/irqlab/hist.h:

include/irqlab/result.h:
