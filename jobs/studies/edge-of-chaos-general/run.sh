#!/bin/bash
# Runs the six (gamma, g) cases of eoc.ini into DIR (default /tmp/eoc-general), one rank each.
# usage: run.sh BUILD/edgesweep [DIR]
set -euo pipefail
B=$1 D=${2:-/tmp/eoc-general} S=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$D"
# gamma noise sigma_w2_lo sigma_w2_hi (0.85 and 1.5 times the theory's asymptotic line: the
# finite-depth crossing lies above it)
while read -r gam g lo hi; do
  "$B" run "$S/eoc.ini" --set network.leak="$gam" --set network.noise="$g" \
    --set "grid.sigma_w2=linspace($lo, $hi, 12)" -o "$D/eoc_${gam}_${g}.h5" --quiet
done <<'CASES'
1 0 1.40 2.20
1 0.05 1.60 2.50
0.5 0 0.46 0.72
0.5 0.05 0.57 0.90
0.25 0 0.16 0.26
0.25 0.05 0.21 0.33
CASES
