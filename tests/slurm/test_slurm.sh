#!/bin/bash
# slurm/sweep.sbatch on a private one-node Slurm: start a sweep, `scontrol requeue` it while it
# runs, let the requeued job finish the same OUT.h5.partial, and compare every numeric dataset
# bitwise with an uninterrupted run outside Slurm. Ranks: 2 (srun --mpi=pmix), then 2 (mpirun).
# Usage: tests/slurm/test_slurm.sh EDGESWEEP          (as root; installs Slurm when missing)
# No silent skip: when Slurm cannot be installed or started, the test fails and says why.
set -uo pipefail

T0=$(date +%s)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ES=$(readlink -f "${1:-${EDGESWEEP:-}}")
PY=/usr/bin/python3
W=""
ok=0
fail() { echo "FAIL: $*"; exit 1; }
finish() {
  if [ -n "$W" ] && [ -s "$W/slurm/pids" ]; then bash "$ROOT/scripts/slurm-local-stop.sh" "$W/slurm"; fi
  if [ $ok = 1 ]; then rm -rf "$W"; elif [ -n "$W" ]; then echo "files kept in $W"; fi
  echo "elapsed $(($(date +%s) - T0)) s"
}
trap finish EXIT
trap "exit 1" TERM INT   # meson's timeout: still stop the daemons
[ -x "$ES" ] || fail "no edgesweep binary given (argument 1 or \$EDGESWEEP)"
[ "$(id -u)" -eq 0 ] || fail "needs root to start slurmd and munged"

# An outer allocation (CI inside Slurm) must not leak into the private cluster.
for v in $(compgen -e | grep '^SLURM_'); do unset "$v"; done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1

if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null ||
   ! command -v munged >/dev/null; then
  PATH=$PATH:/usr/sbin:/sbin
fi
if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null ||
   ! command -v munged >/dev/null; then
  echo "Slurm is not installed: scripts/install-deps.sh --with-slurm"
  bash "$ROOT/scripts/install-deps.sh" --with-slurm ||
    fail "could not install Slurm (slurmctld slurmd slurm-client munge); this test needs it"
fi

W=$(mktemp -d /tmp/es-slurmtest.XXXXXX)
chmod 0755 "$W"
bash "$ROOT/scripts/slurm-local-start.sh" "$W/slurm" ||
  fail "could not start the local Slurm cluster (scripts/slurm-local-start.sh; logs in $W/slurm/log)"
export SLURM_CONF=$W/slurm/slurm.conf
echo "slurm up after $(($(date +%s) - T0)) s"

# 16 points of ~1.5 s each on 2 ranks (~20-40 s): long enough to requeue in the middle.
cat > "$W/job.ini" <<'EOF'
[run]
name = slurmtest
seed = 20261202

[network]
activation = tanh
q0 = 1
c0 = 0.5

[grid]
sigma_w2 = linspace(0.5, 4, 16)
sigma_b2 = 0.05
depth = range(1, 21)
width = 256

[ensemble]
networks = 6000
EOF
OUT=$W/slurm.h5
J=$(cd "$W" && JOB=$W/job.ini OUTPUT=$OUT EDGESWEEP=$ES \
    sbatch --parsable --ntasks=2 --output="$W/sweep-%j.log" "$ROOT/slurm/sweep.sbatch") ||
  fail "sbatch refused slurm/sweep.sbatch"
J=${J%%;*}
echo "submitted job $J"

state() { scontrol show job "$J" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
points_done() {
  "$ES" info "$OUT.partial" 2>/dev/null | awk '$1 == "points" {for (i = 1; i <= NF; i++)
    if ($i == "done,") print $(i - 1)}' | tr -d ','
}
show_log() { echo "--- job log"; cat "$W"/sweep-"$J".log 2>/dev/null; scontrol show job "$J" 2>/dev/null; }

# Requeue once the running job has written a few of its 16 points.
done_pts=0
for _ in $(seq 600); do
  done_pts=$(points_done)
  [ "${done_pts:-0}" -ge 3 ] && break
  case $(state) in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|"")
    show_log; fail "job $J ended ($(state)) before it could be requeued";; esac
  sleep 0.5
done
[ "${done_pts:-0}" -ge 3 ] || { show_log; fail "job $J wrote no points within 300 s"; }
[ "$done_pts" -lt 16 ] || fail "job $J finished all points before the requeue; make the job longer"
echo "requeueing job $J with $done_pts of 16 points done, $(($(date +%s) - T0)) s in"
scontrol requeue "$J" || { show_log; fail "scontrol requeue $J failed"; }

# sacct needs accounting storage: poll the controller instead.
st=""
for _ in $(seq 600); do
  st=$(state)
  case $st in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|"") break;; esac
  sleep 0.5
done
show_log
[ "$st" = COMPLETED ] || fail "job $J ended in state '${st:-gone}', not COMPLETED"
restarts=$(scontrol show job "$J" | grep -o 'Restarts=[0-9]*' | cut -d= -f2)
[ "${restarts:-0}" -ge 1 ] || fail "job $J shows Restarts=${restarts:-?}: it was never requeued"
grep -q 'edgesweep: resuming' "$W/sweep-$J.log" || fail "the requeued run did not resume the partial file"
if [ ! -f "$OUT" ] || [ -e "$OUT.partial" ]; then fail "$OUT is not the finished file"; fi
echo "slurm run done (Restarts=$restarts) after $(($(date +%s) - T0)) s"

# The same job uninterrupted, outside Slurm (results do not depend on the rank count).
mpirun -n 2 "$ES" run "$W/job.ini" -o "$W/ref.h5" --quiet || fail "reference mpirun failed"

"$PY" - "$ROOT/tests/lib" "$OUT" "$W/ref.h5" <<'EOF' || fail "outputs differ"
import sys
sys.path.insert(0, sys.argv[1])
import h5py
import numpy as np
from estest import numeric_datasets, bits, code

a, b = numeric_datasets(sys.argv[2]), numeric_datasets(sys.argv[3])
bad = [k for k in sorted(set(a) | set(b)) if k not in a or k not in b
       or a[k].shape != b[k].shape or a[k].dtype != b[k].dtype or bits(a[k]) != bits(b[k])]
groups = {k.split("/")[0] for k in a if "/" in k}
for g in ("ensemble", "mft", "theory", "phase"):
    if g not in groups:
        bad.append(f"group /{g} missing")
with h5py.File(sys.argv[2], "r") as f:
    resumes = f.attrs.get("resumes")
    status = f["run/status"][()]
    done = code(f["run/status"], "done")
if resumes is None:
    bad.append("no 'resumes' attribute: the file was not resumed")
if not np.all(status == done):
    bad.append(f"run/status not all done: {np.unique(status)}")
print(f"{len(a)} numeric datasets compared bitwise; resumes: {resumes!r}")
for k in bad:
    print("differs:", k)
sys.exit(1 if bad else 0)
EOF
ok=1
echo "ok"
