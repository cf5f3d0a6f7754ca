build-clang/tests/lib_sysstat_perf: tests/unit/lib_sysstat_perf.c \
  include/irqlab/perf.h tests/tap.h

include/irqlab/perf.h:

tests/tap.h:
