# cbound — build, test, run.  `make help` lists the targets.
#
#   make            build build/cbound (installs missing Debian packages as root)
#   make run        build and run the default sweep on Fashion-MNIST
#   make check      build and run every test (tests/run.sh)
#   make bench      run the benchmarks (long; not part of check)
#   SAN=1           build with AddressSanitizer + UndefinedBehaviorSanitizer (in build-san/)
#   NP=2            ranks for `make run`
#   make install PREFIX=DIR   bin/cbound, bin/cbound-mpirun, share/cbound/{scripts,python,jobs}
#   make config     the libraries found; override: HDF5_PC= SCALAPACK_PC= (pkg-config names)
#                   or HDF5_CFLAGS= HDF5_LIBS= SCALAPACK_LIBS= BLAS_LIBS= ... (docs/cluster.md)
#   DEPS_CHECK=0    skip the Debian package check (other distributions, module systems)

VERSION := 0.1.0
# Compile on every core unless the command line says otherwise (make -j1 for a serial build).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
SAN ?= 0
NP ?= 2
ifeq ($(filter $(SAN),0 1),)
$(error SAN must be 0 or 1, got '$(SAN)')
endif

CC ?= mpicc
ifeq ($(origin CC),default)
CC := mpicc
endif
BUILD ?= $(if $(filter 1,$(SAN)),build-san,build)
PREFIX ?= /usr/local
DEPS_CHECK ?= 1

GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# Libraries. pkg-config names differ between distributions and site builds: the first
# name pkg-config knows wins (Debian: hdf5-openmpi, scalapack-openmpi; Fedora/Spack:
# hdf5, scalapack ...). Override a name (HDF5_PC=hdf5-mpich) or skip pkg-config for a
# library by giving its flags (HDF5_CFLAGS=-I$$HDF5_DIR/include HDF5_LIBS="-L... -lhdf5").
pc_first = $(firstword $(foreach p,$(1),$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),$(p))))
define find_pc # VAR, candidate names
ifeq ($$(origin $(1)),undefined)
$(1) := $$(call pc_first,$(2))
endif
endef
$(eval $(call find_pc,HDF5_PC,hdf5-openmpi hdf5-mpi hdf5-mpich hdf5_openmpi hdf5))
$(eval $(call find_pc,SCALAPACK_PC,scalapack-openmpi scalapack-mpich scalapack))
$(eval $(call find_pc,LAPACKE_PC,lapacke))
$(eval $(call find_pc,YAML_PC,yaml-0.1 yaml))
$(eval $(call find_pc,GSL_PC,gsl))
$(eval $(call find_pc,ZLIB_PC,zlib))
pc_cflags = $(if $(1),$(shell pkg-config --cflags $(1)))
pc_libs = $(if $(1),$(shell pkg-config --libs $(1)),$(2))
HDF5_CFLAGS ?= $(call pc_cflags,$(HDF5_PC))
HDF5_LIBS ?= $(call pc_libs,$(HDF5_PC),-lhdf5)
SCALAPACK_LIBS ?= $(call pc_libs,$(SCALAPACK_PC),-lscalapack)
LAPACKE_CFLAGS ?= $(call pc_cflags,$(LAPACKE_PC))
LAPACKE_LIBS ?= $(call pc_libs,$(LAPACKE_PC),-llapacke -llapack)
YAML_CFLAGS ?= $(call pc_cflags,$(YAML_PC))
YAML_LIBS ?= $(call pc_libs,$(YAML_PC),-lyaml)
GSL_CFLAGS ?= $(call pc_cflags,$(GSL_PC))
GSL_LIBS ?= -lgsl
ZLIB_LIBS ?= $(call pc_libs,$(ZLIB_PC),-lz)
BLAS_LIBS ?= -lopenblas
GLPK_LIBS ?= -lglpk
# A name given on the command line that pkg-config does not know is an error, not a silent fallback.
$(foreach v,HDF5_PC SCALAPACK_PC LAPACKE_PC YAML_PC GSL_PC ZLIB_PC,$(if $(filter command line environment,$(origin $(v))),\
  $(if $($(v)),$(if $(shell pkg-config --exists $($(v)) 2>/dev/null && echo y),,\
  $(error $(v)=$($(v)): pkg-config knows no such package (pkg-config --list-all; or give the flags, e.g. $(v:_PC=_LIBS)=...))))))
PKG_CFLAGS = $(HDF5_CFLAGS) $(GSL_CFLAGS) $(LAPACKE_CFLAGS) $(YAML_CFLAGS)
PKG_LIBS = $(HDF5_LIBS) $(SCALAPACK_LIBS) $(LAPACKE_LIBS) $(YAML_LIBS) $(ZLIB_LIBS)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
        -Wcast-align -Wwrite-strings -Wformat=2 -Wno-unused-parameter
OPT ?= -O2 -g
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# No absolute paths baked in: the binary finds scripts/ relative to itself
# (src/cmd/report_cli.c): BIN/../share/cbound/scripts (installed) or BIN/../scripts (build tree).
CPPFLAGS += -Iinclude -DCB_VERSION='"$(VERSION)"' -DCB_GIT_REV='"$(GIT_REV)"' -D_GNU_SOURCE
CFLAGS += -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) $(GLPK_LIBS) $(GSL_LIBS) $(BLAS_LIBS) $(ZLIB_LIBS) -lm
LDFLAGS += $(SANFLAGS)

# Sources live in layer folders (src/core, data, model, measure, compress, run, cmd;
# docs/internals.md); tests/check_layers.sh keeps the includes stacked.
LIB_SRC := $(filter-out src/cmd/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
DEPS_STAMP := $(BUILD)/.deps-ok

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

.PHONY: all run check bench clean help deps tests install config
all: $(BUILD)/cbound

help:
	@sed -n '2,13p' Makefile | sed 's/^# *//'

# Package check runs once per build dir; delete the stamp (or `make deps`) to re-check.
$(DEPS_STAMP):
	@if [ "$(DEPS_CHECK)" = 1 ]; then scripts/deps.sh check; else echo "cbound: DEPS_CHECK=0: package check skipped"; fi
	@mkdir -p $(BUILD) && touch $@

config:
	@echo "CC           $(CC) ($(shell $(CC) --version 2>/dev/null | head -1))"
	@echo "HDF5         $(or $(HDF5_PC),(flags given)): $(strip $(HDF5_CFLAGS) $(HDF5_LIBS))"
	@echo "ScaLAPACK    $(or $(SCALAPACK_PC),(flags given)): $(strip $(SCALAPACK_LIBS))"
	@echo "LAPACKE      $(or $(LAPACKE_PC),(flags given)): $(strip $(LAPACKE_CFLAGS) $(LAPACKE_LIBS))"
	@echo "YAML         $(or $(YAML_PC),(flags given)): $(strip $(YAML_CFLAGS) $(YAML_LIBS))"
	@echo "GSL          $(or $(GSL_PC),(flags given)): $(strip $(GSL_CFLAGS) $(GSL_LIBS))"
	@echo "zlib         $(or $(ZLIB_PC),(flags given)): $(strip $(ZLIB_LIBS))"
	@echo "BLAS         $(BLAS_LIBS)   GLPK $(GLPK_LIBS)"
	@echo "PREFIX       $(PREFIX)"

# make install PREFIX=DIR [DESTDIR=staging]: the binary, the launcher wrapper, and what the
# binary and the job templates use at run time (scripts/, python/, jobs/), relative to bin/.
SHARE = $(DESTDIR)$(PREFIX)/share/cbound
install: $(BUILD)/cbound
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/scripts $(SHARE)/python/cbound $(SHARE)/jobs/sweeps
	install -m 755 $(BUILD)/cbound $(DESTDIR)$(PREFIX)/bin/cbound
	install -m 755 scripts/cbound-mpirun $(DESTDIR)$(PREFIX)/bin/cbound-mpirun
	install -m 644 $(filter-out scripts/cbound-mpirun,$(wildcard scripts/*.py scripts/*.sh scripts/cbound-*)) $(SHARE)/scripts/
	chmod 755 $(SHARE)/scripts/*.sh $(SHARE)/scripts/*.py
	install -m 644 $(wildcard python/cbound/*.py) $(SHARE)/python/cbound/
	install -m 755 jobs/*.sbatch $(SHARE)/jobs/
	install -m 644 jobs/sweeps/*.yaml $(SHARE)/jobs/sweeps/
	@echo "cbound: installed into $(DESTDIR)$(PREFIX) (add $(PREFIX)/bin to PATH)"
deps:
	@scripts/deps.sh check

$(BUILD)/obj/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# version.o embeds the git revision: rebuild it whenever the revision changes.
REV_STAMP := $(BUILD)/.rev-$(subst /,_,$(GIT_REV))
$(REV_STAMP): | $(DEPS_STAMP)
	@rm -f $(BUILD)/.rev-* && touch $@
$(BUILD)/obj/core/version.o: $(REV_STAMP)

$(BUILD)/libcbound.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/cbound: $(BUILD)/obj/cmd/main.o $(BUILD)/libcbound.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libcbound.a tests/check.h tests/helpers.h
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

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/cmd/main.d
