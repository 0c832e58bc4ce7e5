#!/usr/bin/env bash
# Builds on any Linux cluster: `make install PREFIX=DIR` gives a tree that runs from
# any directory with no path into the source tree compiled in (`cbound report` finds
# its scripts relative to the binary), `make config` names the libraries found, and a
# pkg-config name given on the command line that does not exist is an error.
# Prints "test_install: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
REPO=$(pwd)
BUILD=${BUILD:-build}
CB0=$(realpath "${CBOUND:-$BUILD/cbound}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
T=$(mktemp -d /tmp/cbound-install.XXXXXX)
trap 'rm -rf "$T"' EXIT

make -s config >"$T/config.txt" 2>&1; rc=$?
check "make config (rc $rc) names HDF5 and ScaLAPACK" test "$rc" = 0 -a -n "$(grep '^HDF5 .*-lhdf5' "$T/config.txt")" \
    -a -n "$(grep '^ScaLAPACK .*-lscalapack' "$T/config.txt")"
make -s config SCALAPACK_PC=scalapack-nonexistent >"$T/badpc.txt" 2>&1; rc=$?
check "an unknown pkg-config name on the command line: make fails and says so (rc $rc)" \
    test "$rc" -ne 0 -a -n "$(grep 'SCALAPACK_PC=scalapack-nonexistent: pkg-config knows no such package' "$T/badpc.txt")"
make -s config HDF5_PC= HDF5_LIBS="-L/opt/hdf5/lib -lhdf5" >"$T/flags.txt" 2>&1; rc=$?
check "library flags given instead of a pkg-config name (rc $rc)" grep -q '^HDF5 .*(flags given): -L/opt/hdf5/lib -lhdf5' "$T/flags.txt"

# install the built binary (the install target only copies when it is up to date)
make -s BUILD="$BUILD" install PREFIX="$T/prefix" >"$T/install.log" 2>&1; rc=$?
check "make install PREFIX=... (rc $rc)" test "$rc" = 0 -a -x "$T/prefix/bin/cbound" -a -x "$T/prefix/bin/cbound-mpirun"
check "installed: scripts, python package, job templates and sweeps" test -f "$T/prefix/share/cbound/scripts/report.py" \
    -a -f "$T/prefix/share/cbound/python/cbound/__init__.py" -a -x "$T/prefix/share/cbound/jobs/cbound.sbatch" \
    -a -f "$T/prefix/share/cbound/jobs/sweeps/test-tiny.yaml"
check "no path into the source tree compiled into the binary" test "$(strings "$T/prefix/bin/cbound" | grep -c "$REPO/scripts")" = 0

# run it from another directory, the source tree out of sight
mkdir -p "$T/elsewhere" && cd "$T/elsewhere"
cat >tiny.yaml <<EOF
name: tiny
output: $T/elsewhere/tiny.h5
data: {kind: gaussian, dim: 8, n_classes: 3, teacher_width: 10, n_train: 120, n_test: 60, scale: none}
model: {depth: 3, widths: [5]}
train: {epochs: 2, batch: 20}
methods:
  - name: magnitude
    grid: {sparsity: [0.5, 0.9]}
EOF
env -u CBOUND_SCRIPTS PATH="$T/prefix/bin:$PATH" cbound-mpirun -n 2 cbound run --quiet tiny.yaml >run.log 2>&1; rc=$?
check "installed cbound runs a sweep from another directory under cbound-mpirun (rc $rc)" test "$rc" = 0 -a -f tiny.h5
env -u CBOUND_SCRIPTS "$T/prefix/bin/cbound" report tiny.h5 --quiet >report.log 2>&1; rc=$?
check "installed cbound report finds its scripts next to the binary (rc $rc)" test "$rc" = 0 -a -d tiny/report
cp "$T/prefix/bin/cbound" "$T/cbound-alone"
env -u CBOUND_SCRIPTS "$T/cbound-alone" report tiny.h5 --quiet >alone.log 2>&1; rc=$?
check "a binary with no scripts beside it says where it looked and what to set (rc $rc)" \
    test "$rc" = 1 -a -n "$(grep 'hint: set CBOUND_SCRIPTS' alone.log)"

echo "test_install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
