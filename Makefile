# cbound — build, test, run.  `make help` lists the targets.
#
#   make            build build/cbound (installs missing Debian packages as root)
#   make run        build and run the default sweep on Fashion-MNIST
#   make check      build and run every test (tests/run.sh)
#   make bench      run the benchmarks (long; not part of check)
#   SAN=1           build with AddressSanitizer + UndefinedBehaviorSanitizer (in build-san/)
#   NP=2            ranks for `make run`

VERSION := 0.1.0
SAN ?= 0
NP ?= 2
ifeq ($(filter $(SAN),0 1),)
$(error SAN must be 0 or 1, got '$(SAN)')
endif

CC := mpicc
PKGS := hdf5-openmpi gsl lapacke yaml-0.1 zlib glpk
BUILD := $(if $(filter 1,$(SAN)),build-san,build)

GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
PKG_CFLAGS = $(shell pkg-config --cflags $(filter-out glpk,$(PKGS)) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs hdf5-openmpi scalapack-openmpi lapacke yaml-0.1 zlib 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
        -Wcast-align -Wwrite-strings -Wformat=2 -Wno-unused-parameter
OPT ?= -O2 -g
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
CPPFLAGS += -Iinclude -DCB_VERSION='"$(VERSION)"' -DCB_GIT_REV='"$(GIT_REV)"' -DCB_SCRIPT_DIR='"$(CURDIR)/scripts"' -D_GNU_SOURCE
CFLAGS += -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lglpk -lgsl -lopenblas -lz -lm
LDFLAGS += $(SANFLAGS)

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
DEPS_STAMP := $(BUILD)/.deps-ok

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

.PHONY: all run check bench clean help deps tests
all: $(BUILD)/cbound

help:
	@sed -n '2,9p' Makefile | sed 's/^# *//'

# Package check runs once per build dir; delete the stamp (or `make deps`) to re-check.
$(DEPS_STAMP):
	@scripts/deps.sh check
	@mkdir -p $(BUILD) && touch $@
deps:
	@scripts/deps.sh check

$(BUILD)/obj/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# cli.o embeds the git revision: rebuild it whenever the revision changes.
REV_STAMP := $(BUILD)/.rev-$(subst /,_,$(GIT_REV))
$(REV_STAMP): | $(DEPS_STAMP)
	@rm -f $(BUILD)/.rev-* && touch $@
$(BUILD)/obj/cli.o: $(REV_STAMP)

$(BUILD)/libcbound.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/cbound: $(BUILD)/obj/main.o $(BUILD)/libcbound.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libcbound.a tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests $< $(BUILD)/libcbound.a $(LDFLAGS) $(LDLIBS) -o $@

tests: $(TEST_BIN) $(BUILD)/cbound

check: tests
	CBOUND=$(BUILD)/cbound BUILD=$(BUILD) tests/run.sh

run: $(BUILD)/cbound
	scripts/make_run.sh $(BUILD)/cbound $(NP)

bench: $(BUILD)/cbound
	scripts/bench.sh $(BUILD)/cbound

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d
