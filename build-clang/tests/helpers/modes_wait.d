build-clang/tests/helpers/modes_wait: tests/helpers/modes_wait.c \
  include/irqlab/compat.h

include/irqlab/compat.h:
