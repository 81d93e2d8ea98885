#!/bin/bash
# Stop the cluster that scripts/slurm-local-start.sh started in DIR, by its recorded PIDs only.
# Usage: scripts/slurm-local-stop.sh [DIR]          (DIR defaults to $ES_SLURM_DIR)
# Jobs still in that cluster are cancelled first so that no slurmstepd outlives slurmd.
set -uo pipefail

S=${1:-${ES_SLURM_DIR:-}}
[ -n "$S" ] || { echo "usage: $0 DIR   (or set ES_SLURM_DIR)" >&2; exit 2; }
P=$S/pids
[ -s "$P" ] || { echo "slurm-local-stop: nothing recorded in $P"; exit 0; }
export SLURM_CONF=$S/slurm.conf

pid_of() { awk -v n="$1" '$1 == n {print $2}' "$P"; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# TERM, then KILL after $2 tenths of a second.
stop() {
  local p
  p=$(pid_of "$1")
  alive "$p" || return 0
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq "$2"); do alive "$p" || break; sleep 0.1; done
  alive "$p" && kill -KILL "$p" 2>/dev/null
  echo "slurm-local-stop: stopped $1 ($p)"
}

if alive "$(pid_of slurmctld)"; then
  jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    for _ in $(seq 150); do [ -z "$(squeue -h -t R,CG -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
fi
# slurmd first (it reports to slurmctld), munged last (both authenticate through it).
stop slurmd 100
stop slurmctld 100
stop munged 50
rm -f "$P"
