#!/bin/bash
# The first README command: install what is missing, build, run the demo sweep on 2 ranks and
# draw its figures into figures/ (figures/phase_diagram.png is the headline).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
. scripts/env.sh
mkdir -p out figures
rm -f out/demo.h5 out/demo.h5.partial
t0=$(date +%s%N)
mpirun -n 2 build/edgesweep run jobs/demo.ini -o out/demo.h5
t1=$(date +%s%N)
echo "demo: mpirun -n 2 took $(( (t1 - t0) / 1000000 )) ms"
$PYTHON analysis/plot out/demo.h5 --out figures
echo "demo: open figures/phase_diagram.png"
