build-clang/sim/calib.o: sim/calib.c sim/calib.h \
  include/irqlab/experiment.h include/irqlab/dist.h \
  include/irqlab/mode.h include/irqlab/result.h sim/sim.h \
  include/irqlab/hist.h

sim/calib.h:

include/irqlab/experiment.h:

include/irqlab/dist.h:

include/irqlab/mode.h:

include/irqlab/result.h:

sim/sim.h:

include/irqlab/hist.h:
