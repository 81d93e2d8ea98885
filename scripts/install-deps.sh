#!/bin/bash
# Install the Debian 12 packages edgesweep needs, only those that are missing.
# Usage: scripts/install-deps.sh [--with-slurm] [--with-bench]   (as root, or with sudo)
set -euo pipefail

pkgs=(gcc git libc6-dev meson ninja-build pkg-config clang libclang-rt-14-dev clang-format procps
      libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
      librandom123-dev libinih-dev
      python3-h5py python3-numpy python3-scipy python3-matplotlib python3-xarray
      python3-h5netcdf netcdf-bin python3-netcdf4 python3-pyflakes)
for opt in "$@"; do
  case "$opt" in
    # A one-node cluster (scripts/slurm-local-start.sh). srun --mpi=pmix dlopens
    # pmix2/lib/libpmix.so, which only libpmix-dev ships.
    --with-slurm) pkgs+=(slurmctld slurmd slurm-client munge libpmix2 libpmix-dev) ;;
    # The PyTorch peer of the benchmark (bench/peers/torch_explicit.py, suite bench), and
    # OpenBLAS for the dense benchmark's DGEMM peak (bench/bench_dense.c); edgesweep uses neither.
    --with-bench) pkgs+=(python3-torch libopenblas-dev) ;;
    # Building the Debian package (tests/install/test_deb.sh) and pip-installing analysis/.
    --with-packaging) pkgs+=(debhelper dpkg-dev python3-pip python3-setuptools groff-base) ;;
    *) echo "install-deps: unknown option $opt (known: --with-slurm --with-bench --with-packaging)" >&2
       exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

# Without root (a cluster login node) or without apt, nothing is installed: say what the build
# needs and where the guide for module or Spack builds is.
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ] && { [ "${EDGESWEEP_NO_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null ||
     { [ -n "$SUDO" ] && ! sudo -n true 2>/dev/null; }; }; then
  cat >&2 <<EOT
install-deps: these Debian packages are missing and cannot be installed here (no root, no
sudo, no apt-get, or EDGESWEEP_NO_APT=1): ${missing[*]}
On a cluster, load the site's modules instead (a C11 compiler, MPI, parallel HDF5, Python 3
with h5py, numpy, matplotlib), put Random123's headers and inih on the include/pkg-config
paths (or use Spack), then build with: meson setup build && ninja -C build.
doc/cluster.md says how, step by step.
EOT
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all ${#pkgs[@]} packages present"
fi

# hdf5.pc is an alternatives link; it must point at a parallel (MPI) build.
pc=$(readlink -f /usr/lib/x86_64-linux-gnu/pkgconfig/hdf5.pc 2>/dev/null || true)
case "$pc" in
  *openmpi*|*mpi*) ;;
  *) echo "install-deps: pointing hdf5.pc at the Open MPI build"
     $SUDO update-alternatives --set hdf5.pc /usr/lib/x86_64-linux-gnu/pkgconfig/hdf5-mpi.pc ;;
esac
