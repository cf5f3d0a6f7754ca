build-clang/tests/sim_model: tests/unit/sim_model.c \
  tests/unit/sim_harness.h tests/unit/../../sim/sim.h \
  include/irqlab/dist.h include/irqlab/experiment.h \
  include/irqlab/mode.h include/irqlab/hist.h include/irqlab/result.h \
  tests/tap.h

tests/unit/sim_harness.h:

tests/unit/../../sim/sim.h:

include/irqlab/dist.h:

include/irqlab/experiment.h:

include/irqlab/mode.h:

include/irqlab/hist.h:

include/irqlab/result.h:

tests/tap.h:
