build-clang/tests/sim_event: tests/unit/sim_event.c \
  tests/unit/../../sim/sim.h include/irqlab/dist.h \
  include/irqlab/experiment.h include/irqlab/mode.h \
  include/irqlab/hist.h include/irqlab/result.h tests/tap.h

tests/unit/../../sim/sim.h:

include/irqlab/dist.h:

include/irqlab/experiment.h:

include/irqlab/mode.h:

include/irqlab/hist.h:

include/irqlab/result.h:

tests/tap.h:
