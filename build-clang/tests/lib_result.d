build-clang/tests/lib_result: tests/unit/lib_result.c \
  include/irqlab/result.h tests/tap.h

include/irqlab/result.h:

tests/tap.h:
