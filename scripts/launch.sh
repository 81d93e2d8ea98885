#!/bin/bash
# Run an MPI launcher so that stopping it ends in exit 3 (stopped, resumable), as edgesweep
# alone does:
#   scripts/launch.sh mpirun -n 4 build/edgesweep run job.ini -o out.h5
#   scripts/launch.sh srun --mpi=pmix -n 64 edgesweep run job.ini --resume
# SIGTERM, SIGINT and SIGUSR1 to this script reach the ranks as SIGUSR1: the one signal that
# both Open MPI 4.1's mpirun and Slurm 22.05's srun forward to the ranks. Their own handling of
# the others ends the job with another status: mpirun aborts on TERM or INT and exits 1 (after
# the ranks printed their resume hint), srun kills the tasks on TERM (137) and only reports on
# a single INT. The launchers drop a signal that comes before the ranks exist, so this script
# repeats it every half second until the launcher ends. Exit status: the launcher's, and 3 when
# a signal came and the launcher ended with 0 (the output was complete), or was itself killed by
# the forwarded SIGUSR1 before it could start the ranks (nothing was written).
set -u
[ $# -ge 1 ] || { echo "usage: $0 mpirun|srun ARGS..." >&2; exit 2; }
got=""
# Its own process group: a Ctrl-C on the terminal reaches this script only, not the launcher.
setsid "$@" &
pid=$!
trap 'got=TERM' TERM
trap 'got=INT' INT
trap 'got=USR1' USR1
rc=""
while :; do
  if [ -n "$got" ]; then
    kill -s USR1 "$pid" 2>/dev/null || break
    sleep 0.5
  else
    wait "$pid"
    r=$?
    [ -z "$got" ] && { rc=$r; break; }   # not interrupted by a trap: the launcher's status
  fi
done
if [ -z "$rc" ]; then
  wait "$pid"
  rc=$?
fi
if [ -n "$got" ] && [ "$rc" -eq 0 ]; then
  echo "launch.sh: SIG$got came as $1 finished: the output is complete, --resume has nothing left to do; exit 3" >&2
  rc=3
elif [ -n "$got" ] && [ "$rc" -eq 138 ]; then
  # 138: a repeated USR1 reached a process with the default action, as the ranks started (before
  # their handlers) or as mpirun shut down after they finished; which one, the output tells.
  echo "launch.sh: SIG$got ended $1 while it started or finished the ranks; exit 3 (--resume" \
       "continues the run, or has nothing left to do if the output is complete)" >&2
  rc=3
fi
exit "$rc"
