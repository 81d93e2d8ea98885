#!/bin/bash
# W-scan (bench/README.md): the scan bench/wscan.ini against its same-work job
# bench/wscan_work.ini, both on 2 ranks, REPS rounds interleaved (scan, work, scan, ...) so
# that other jobs on a shared machine load both alike. Prints per run the wall time and the
# CPU seconds of mpirun and its ranks, and per round the scan/work ratios.
# Usage: bench/wscan.sh [EDGESWEEP ...]   (default build/edgesweep; several binaries, e.g. a
# before and an after build, are interleaved within each round). Environment: REPS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
BINS=("$@")
((${#BINS[@]})) || BINS=(build/edgesweep)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
OUT=$(mktemp -d /tmp/edgesweep-wscan.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
echo "date $(date -u +%FT%TZ); host $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "load $(uptime | sed 's/.*load average/load average/') (shared machine: compare ratios)"
run() {  # binary job -> "wall cpu"
  # Neither job pays for deleting the other's output (W-scan's 120 MB, still in the page
  # cache): each starts from an empty path, untimed.
  rm -f "$OUT"/o.h5*
  /usr/bin/time -f "%e %U %S" -o "$OUT/t" mpirun -n 2 "$1" run "$2" -o "$OUT/o.h5" --force \
    --quiet >/dev/null
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$OUT/t"
}
for ((r = 1; r <= REPS; r++)); do
  for b in "${BINS[@]}"; do
    read -r ws cs < <(run "$b" bench/wscan.ini)
    read -r ww cw < <(run "$b" bench/wscan_work.ini)
    awk -v b="$b" -v r="$r" -v ws="$ws" -v cs="$cs" -v ww="$ww" -v cw="$cw" 'BEGIN {
      printf "round %d %s: scan %.2f s wall %.2f CPU-s; work %.2f s wall %.2f CPU-s; ratio wall %.2f CPU %.2f\n",
        r, b, ws, cs, ww, cw, ws / ww, cs / cw }'
  done
done
