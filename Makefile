# irqlab: one library, thin programs on top.
#   make          build everything into build/
#   make check    install deps, build, run all tests (prove over TAP), then
#                 the unit and protocol tests again under ASan+UBSan
#   make asan     only the ASan+UBSan test pass (build-asan/)
#   make demo     install deps, build, run the demo
#   CC=clang make also works; both compilers must stay warning-free.

CC      ?= cc
BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -MMD -MP -std=gnu11 -Wall -Wextra -fPIC -pthread -Iinclude -Itests
LDLIBS  += $(shell pkg-config --libs libmnl jansson 2>/dev/null || echo -lmnl -ljansson) -lm -pthread
CFLAGS  += $(shell pkg-config --cflags libmnl jansson 2>/dev/null)

PROGRAMS := kv load sim cli
LIB_SRC  := $(filter-out lib/preload.c,$(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA     := $(BUILD)/libirqlab.a
SHIM     := $(if $(wildcard lib/preload.c),$(BUILD)/libirqlab-preload.so)

# Each program folder builds one binary from all its .c files; its objects
# other than main.o are also linked into that folder's unit tests.
bin_name = $(if $(filter cli,$(1)),irqlab,irqlab-$(1))
# The `irqlab` front door (cli/) also carries the bench component (bench/).
prog_dirs = $(if $(filter cli,$(1)),cli bench,$(1))
prog_obj = $(patsubst %.c,$(BUILD)/%.o,$(foreach d,$(call prog_dirs,$(1)),$(wildcard $(d)/*.c)))
BINS     := $(foreach p,$(PROGRAMS),$(if $(wildcard $(p)/main.c),$(BUILD)/$(call bin_name,$(p))))

# tests/unit/<component>_<name>.c -> $(BUILD)/tests/<component>_<name>
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# tests/helpers/*.c: small servers and tools the integration tests use
HELP_SRC := $(wildcard tests/helpers/*.c)
HELP_BIN := $(HELP_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

all: $(LIBA) $(SHIM) $(BINS) $(UNIT_BIN) $(HELP_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The shim is self-contained: its objects plus the library, no libmnl needed
# at run time beyond what libirqlab pulls in.
$(BUILD)/libirqlab-preload.so: $(BUILD)/lib/preload.o $(LIBA)
	$(CC) -shared -o $@ $(BUILD)/lib/preload.o $(LIBA) $(LDFLAGS) -ldl $(LDLIBS)

define program_rule
$(BUILD)/$(call bin_name,$(1)): $(call prog_obj,$(1)) $(LIBA)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))
# irqlab-load's io_uring engine (load/uring.c) uses liburing where installed.
$(BUILD)/irqlab-load $(BUILD)/tests/load_%: LDLIBS += $(shell pkg-config --libs liburing 2>/dev/null)

# A unit test links its component's objects (minus main.o) and the library.
.SECONDEXPANSION:
# The pattern sits in a variable: a literal % in a pattern rule's
# prerequisites would be replaced by the stem.
MAIN_OBJ_PAT := %/main.o
$(BUILD)/tests/%: tests/unit/%.c $$(filter-out $$(MAIN_OBJ_PAT),$$(call prog_obj,$$(firstword $$(subst _, ,$$*)))) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

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

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@sh scripts/demo.sh $(BUILD)

clean:
	rm -rf build build-asan

.PHONY: all deps check asan demo clean
