build-clang/sim/main.o: sim/main.c include/irqlab/report.h \
  include/irqlab/result.h sim/calib.h include/irqlab/experiment.h \
  include/irqlab/dist.h include/irqlab/mode.h sim/sim.h \
  include/irqlab/hist.h

include/irqlab/report.h:

include/irqlab/result.h:

sim/calib.h:

include/irqlab/experiment.h:

include/irqlab/dist.h:

include/irqlab/mode.h:

sim/sim.h:

include/irqlab/hist.h:
