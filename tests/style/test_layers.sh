#!/bin/bash
# The layering rules a grep can check: only h5out includes HDF5's headers, and the physics
# layers (util, config, rng, activation, mft, theory, ensemble, observables) never include
# mpi.h. A rule broken names the file and line.
set -uo pipefail
root=${1:?usage: test_layers.sh SOURCE_ROOT}
cd "$root" || exit 1
fail=0
# Any HDF5 header (hdf5.h, H5*.h) outside src/h5out/.
hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](hdf5[A-Za-z_]*|H5[A-Za-z_]*)\.h[>"]' \
  src include tests bench --include='*.c' --include='*.h' | grep -v '^src/h5out/' |
  grep -v '^bench/bench_h5filters.c:')  # a benchmark of HDF5 itself, not of the engine
if [ -n "$hits" ]; then
  echo "FAIL: HDF5 headers outside src/h5out/:"; echo "$hits"; fail=1
fi
physics=(src/util src/config src/rng src/activation src/mft src/theory src/ensemble
         src/observables include/edgesweep/util.h include/edgesweep/config.h
         include/edgesweep/grid.h include/edgesweep/rng.h include/edgesweep/activation.h
         include/edgesweep/mft.h include/edgesweep/theory.h include/edgesweep/ensemble.h
         include/edgesweep/observables.h include/edgesweep/critical.h)
hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]mpi\.h[>"]' "${physics[@]}" \
  --include='*.c' --include='*.h')
if [ -n "$hits" ]; then
  echo "FAIL: mpi.h in a physics layer:"; echo "$hits"; fail=1
fi
# The rules must be able to fail: each pattern finds its header where it belongs.
grep -qE '#include <hdf5.h>' src/h5out/h5out.c || { echo "FAIL: hdf5 pattern matches nothing"; fail=1; }
grep -qE '#include <mpi.h>' src/main.c || { echo "FAIL: mpi pattern matches nothing"; fail=1; }
[ $fail -eq 0 ] && echo "ok: hdf5.h only in src/h5out, no mpi.h in ${#physics[@]} physics paths"
exit $fail
