#!/bin/bash
# Run one sweep as LINKS chained Slurm jobs that all continue the same OUT.h5.partial, for a
# scan longer than any one allocation may be. Link k+1 starts after link k ends, whatever its
# exit (--dependency=afterany), and runs slurm/sweep.sbatch with REQUEUE=0: a link warned of
# its time limit stops cleanly (exit 3) and the next link resumes. The link that finishes the
# last point renames the file to OUT.h5; any later link finds it complete and exits 0 at once.
#
# Usage: JOB=study.ini OUTPUT=study.h5 [EDGESWEEP=...] slurm/chain.sh LINKS [sbatch options]...
#   e.g. JOB=big.ini OUTPUT=big.h5 slurm/chain.sh 8 --ntasks=128 --time=24:00:00 \
#          --signal=B:USR1@600
# The variables are those of slurm/sweep.sbatch; TEMPLATE picks another template.
# Prints one job id per link; cancel the rest of a chain with `scancel ID...`.
set -euo pipefail

links=${1:-}
[[ "$links" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: JOB=job.ini OUTPUT=out.h5 $0 LINKS [sbatch options]..." >&2; exit 2; }
shift
: "${JOB:?set JOB to the job file}"
template=${TEMPLATE:-$(cd "$(dirname "$0")" && pwd)/sweep.sbatch}
# Links start later, maybe from another directory: pin the paths now.
JOB=$(readlink -f "$JOB")
[ -n "${OUTPUT:-}" ] && OUTPUT=$(readlink -f "$OUTPUT")
export JOB OUTPUT REQUEUE=0

ids=()
prev=""
for i in $(seq "$links"); do
  dep=()
  [ -n "$prev" ] && dep=(--dependency="afterany:$prev")
  prev=$(sbatch --parsable --job-name=edgesweep-chain "${dep[@]}" "$@" "$template")
  prev=${prev%%;*}   # --parsable prints "id;cluster" on multi-cluster setups
  ids+=("$prev")
  echo "link $i/$links: job $prev${dep:+ (after ${dep[0]#*:})}"
done
echo "chain: ${ids[*]}   (cancel with: scancel ${ids[*]})"
