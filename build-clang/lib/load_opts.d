build-clang/lib/load_opts.o: lib/load_opts.c include/irqlab/load_opts.h \
  include/irqlab/dist.h include/irqlab/opt.h

include/irqlab/load_opts.h:

include/irqlab/dist.h:

include/irqlab/opt.h:
