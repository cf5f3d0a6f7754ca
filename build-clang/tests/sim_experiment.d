build-clang/tests/sim_experiment: tests/unit/sim_experiment.c \
  include/irqlab/experiment.h include/irqlab/dist.h \
  include/irqlab/mode.h tests/tap.h

include/irqlab/experiment.h:

include/irqlab/dist.h:

include/irqlab/mode.h:

tests/tap.h:
