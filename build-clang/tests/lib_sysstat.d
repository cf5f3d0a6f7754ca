build-clang/tests/lib_sysstat: tests/unit/lib_sysstat.c \
  include/irqlab/sysstat.h tests/tap.h

include/irqlab/sysstat.h:

tests/tap.h:
