build-clang/cli/napi.o: cli/napi.c cli/cli.h include/irqlab/opt.h \
  include/irqlab/mode.h include/irqlab/napi.h

cli/cli.h:

include/irqlab/opt.h:

include/irqlab/mode.h:

include/irqlab/napi.h:
