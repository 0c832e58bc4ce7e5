#!/usr/bin/env bash
# Checks that every Debian package cbound needs is installed; as root installs the
# missing ones with apt, otherwise prints the exact apt line and fails. Elsewhere (no
# dpkg) it does nothing: see `make config` and docs/cluster.md.
# Usage: scripts/deps.sh [build|run|check]   (check = build + test-only packages)
set -u
what="${1:-check}"
build_pkgs="gcc make pkg-config libopenmpi-dev openmpi-bin libscalapack-openmpi-dev libhdf5-openmpi-dev
 hdf5-tools libgsl-dev libopenblas-dev liblapacke-dev librandom123-dev zlib1g-dev libyaml-dev libglpk-dev"
run_pkgs="dataset-fashion-mnist python3 python3-h5py python3-numpy python3-pandas python3-matplotlib python3-yaml"
check_pkgs="python3-torch python3-sklearn python3-scipy slurm-wlm munge iproute2"
case "$what" in
    build) pkgs="$build_pkgs" ;;
    run) pkgs="$build_pkgs $run_pkgs" ;;
    check) pkgs="$build_pkgs $run_pkgs $check_pkgs" ;;
    *) echo "usage: $0 [build|run|check]" >&2; exit 2 ;;
esac
# Not Debian (a cluster with modules, Spack, another distribution): there is no package
# list to check; the Makefile finds the libraries with pkg-config or the flags it is given.
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "cbound: no dpkg here: skipping the Debian package check (make config shows the libraries found;" \
         "docs/cluster.md)" >&2
    exit 0
fi
missing=()
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "cbound: missing Debian packages: ${missing[*]}" >&2
    echo "  hint: as root run:  apt-get update && $line" >&2
    exit 1
fi
echo "cbound: installing missing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/cbound-apt.log 2>&1; then
    apt-get update >>/tmp/cbound-apt.log 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/cbound-apt.log 2>&1 || {
        echo "cbound: apt-get failed, see /tmp/cbound-apt.log" >&2; tail -20 /tmp/cbound-apt.log >&2; exit 1; }
fi
echo "cbound: packages installed" >&2
