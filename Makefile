# irqlab: one library, thin programs on top.
#   make          build everything into build/
#   make check    install deps, build, run all tests (prove over TAP), then
#                 the unit and protocol tests again under ASan+UBSan
#   make asan     only the ASan+UBSan test pass (build-asan/)
#   make tsan     irqlab-kv under ThreadSanitizer, its multi-thread tests
#   make demo     install deps, build, run the demo
#   CC=clang make also works; both compilers must stay warning-free.
#
# Layers, and how folders map to them (a new folder needs no rule here):
#   lib/          libirqlab.a, the library every other part links
#   shim/         libirqlab-preload.so, the LD_PRELOAD shim (library inside)
#   <dir>/main.c  a program: build/irqlab-<dir> from every .c of <dir>
#                 (cli/ is the front door, build/irqlab)
#   <dir>/        without main.c: a component that programs name in
#                 <prog>_USES (bench/ is part of `irqlab`)
#   tests/unit/<dir>_<name>.c  a unit test: links <dir>'s objects (minus
#                 main.o) and the library; lib_* tests link the library only.

CC      ?= cc
BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -MMD -MP -std=gnu11 -Wall -Wextra -fPIC -pthread -Iinclude -Itests -I.
LDLIBS  += $(shell pkg-config --libs libmnl jansson 2>/dev/null || echo -lmnl -ljansson) -lm -pthread
CFLAGS  += $(shell pkg-config --cflags libmnl jansson 2>/dev/null)

# Every top-level folder with C files is a component.
NOT_COMPONENTS := lib tests scripts docs include $(BUILD) build build-asan build-tsan
COMPONENTS := $(filter-out $(NOT_COMPONENTS),$(patsubst %/,%,$(sort $(dir $(wildcard */*.c)))))
PROGRAMS   := $(patsubst %/main.c,%,$(wildcard $(addsuffix /main.c,$(COMPONENTS))))

LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/*.c))
LIBA     := $(BUILD)/libirqlab.a
SHIM     := $(if $(wildcard shim/*.c),$(BUILD)/libirqlab-preload.so)

# Exceptions to the folder rules, one line each.
BIN_cli   := irqlab
cli_USES  := bench tune sim
tune_USES := bench sim
bin_name   = $(or $(BIN_$(1)),irqlab-$(1))
comp_obj   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c))
# a used component that is a program too (sim) lends its objects, not its main
uses_obj   = $(foreach d,$($(1)_USES),$(filter-out $(BUILD)/$(d)/main.o,$(call comp_obj,$(d))))
prog_obj   = $(call comp_obj,$(1)) $(call uses_obj,$(1))
BINS      := $(foreach p,$(PROGRAMS),$(BUILD)/$(call bin_name,$(p)))

# tests/unit/<component>_<name>.c -> $(BUILD)/tests/<component>_<name>
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB_TEST := $(filter $(BUILD)/tests/lib_%,$(UNIT_BIN))
# tests/helpers/*.c: small servers and tools the integration tests use
HELP_SRC := $(wildcard tests/helpers/*.c)
HELP_BIN := $(HELP_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
LAYERS   := $(BUILD)/tests/.layers-ok

all: $(LIBA) $(SHIM) $(BINS) $(UNIT_BIN) $(HELP_BIN) $(LAYERS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The shim: its objects plus the library, in one shared object.
$(BUILD)/libirqlab-preload.so: $(call comp_obj,shim) $(LIBA)
	$(CC) -shared -o $@ $^ $(LDFLAGS) -ldl $(LDLIBS)

define program_rule
$(BUILD)/$(call bin_name,$(1)): $(call prog_obj,$(1)) $(LIBA)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))
# irqlab-load's io_uring engine (load/uring.c) uses liburing where installed.
$(BUILD)/irqlab-load $(BUILD)/tests/load_%: LDLIBS += $(shell pkg-config --libs liburing 2>/dev/null)
$(BUILD)/tests/shim_%: LDLIBS += -ldl

# A unit test links its component's objects (minus main.o) and the library;
# "lib" is no folder of objects here, so lib_* tests get the library alone.
.SECONDEXPANSION:
# The pattern sits in a variable: a literal % in a pattern rule's
# prerequisites would be replaced by the stem.
MAIN_OBJ_PAT := %/main.o
test_comp = $(filter-out lib,$(firstword $(subst _, ,$(1))))
$(BUILD)/tests/%: tests/unit/%.c $$(filter-out $$(MAIN_OBJ_PAT),$$(call comp_obj,$$(call test_comp,$$*)) $$(call uses_obj,$$(call test_comp,$$*))) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# The layer check: a library test that defines epoll_* has the shim (or
# another interposer) linked in, and tests something other than the library.
$(LAYERS): $(LIB_TEST)
	@bad=$$(for t in $^; do nm --defined-only "$$t" | \
		awk -v t="$$t" '$$3 ~ /^epoll_/ { print t ": " $$3 }'; done); \
	if [ -n "$$bad" ]; then \
		echo "layer check: library tests define epoll_* (shim linked in?):" >&2; \
		echo "$$bad" >&2; exit 1; fi; \
	touch $@

# Header dependencies written by the compiler (-MMD).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@sh scripts/install-deps.sh

# Integration tests find the binaries through IRQLAB_BUILD.
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@IRQLAB_BUILD=$(CURDIR)/$(BUILD) sh tests/run.sh all
	@$(MAKE) --no-print-directory asan

asan:
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build-asan \
		OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all
	@IRQLAB_BUILD=$(CURDIR)/build-asan IRQLAB_ASAN=1 sh tests/run.sh asan

# ThreadSanitizer: irqlab-kv built with -fsanitize=thread, then its
# multi-thread integration tests (kv_stress.sh issues stats, stats reset and
# verbosity during the load). Every report goes to build-tsan/tsan.*; any
# report fails the target.
TSAN_TESTS := tests/integration/kv_stress.sh tests/integration/kv_memory.sh \
	tests/integration/kv_budget.sh tests/integration/kv_conformance.sh
tsan:
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build-tsan \
		OPT="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=thread" build-tsan/irqlab-kv
	@rm -f build-tsan/tsan.*
	@IRQLAB_BUILD=$(CURDIR)/build-tsan IRQLAB_SRC=$(CURDIR) IRQLAB_TSAN=1 \
		TSAN_OPTIONS="log_path=$(CURDIR)/build-tsan/tsan second_deadlock_stack=1" \
		prove --exec sh --timer $(TSAN_TESTS)
	@if ls build-tsan/tsan.* >/dev/null 2>&1; then \
		echo "tsan: ThreadSanitizer reports:" >&2; cat build-tsan/tsan.* >&2; exit 1; fi; \
		echo "tsan: 0 ThreadSanitizer reports"

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@sh scripts/demo.sh $(BUILD)

clean:
	rm -rf build build-asan build-tsan

.PHONY: all deps check asan tsan demo clean
