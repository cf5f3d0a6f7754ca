build-clang/cli/probe.o: cli/probe.c cli/cli.h include/irqlab/opt.h \
  include/irqlab/napi.h include/irqlab/mode.h include/irqlab/result.h

cli/cli.h:

include/irqlab/opt.h:

include/irqlab/napi.h:

include/irqlab/mode.h:

include/irqlab/result.h:
