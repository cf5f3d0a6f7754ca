build-clang/tests/sim_calib: tests/unit/sim_calib.c \
  tests/unit/../../sim/calib.h include/irqlab/experiment.h \
  include/irqlab/dist.h include/irqlab/mode.h include/irqlab/result.h \
  tests/unit/../../sim/sim.h include/irqlab/hist.h tests/tap.h

tests/unit/../../sim/calib.h:

include/irqlab/experiment.h:

include/irqlab/dist.h:

include/irqlab/mode.h:

include/irqlab/result.h:

tests/unit/../../sim/sim.h:

include/irqlab/hist.h:

tests/tap.h:
