#!/bin/bash
# Start a private one-node Slurm 22.05 cluster (munged + slurmctld + slurmd) for tests and demos.
# Usage: scripts/slurm-local-start.sh [DIR]        (as root; DIR defaults to $ES_SLURM_DIR)
#
# Everything lives under DIR: slurm.conf, cgroup.conf, a munge key and socket of its own (so a
# system munged, if any, is neither used nor disturbed), state, spool, logs, and DIR/pids
# ("name pid" lines) that scripts/slurm-local-stop.sh kills. Ports: $ES_SLURM_PORT (slurmctld)
# and the next one (slurmd); by default the first free pair from 6817 on.
# Then:  export SLURM_CONF=DIR/slurm.conf   and use sbatch, srun, squeue, scontrol as usual.
# Exits non-zero with the reason (and the daemon's log) when the cluster does not come up.
set -euo pipefail

S=${1:-${ES_SLURM_DIR:-}}
[ -n "$S" ] || { echo "usage: $0 DIR   (or set ES_SLURM_DIR)" >&2; exit 2; }
die() { echo "slurm-local-start: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (slurmd and munged need it)"
for c in munged slurmctld slurmd sinfo setpriv; do
  command -v "$c" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
  command -v "$c" >/dev/null ||
    die "$c not found: run scripts/install-deps.sh --with-slurm"
done
id munge >/dev/null 2>&1 || die "no munge user: run scripts/install-deps.sh --with-slurm"

mkdir -p "$S"
S=$(cd "$S" && pwd)
[ -s "$S/pids" ] && die "$S/pids exists: a cluster may be running there (scripts/slurm-local-stop.sh $S)"
# munged runs as user munge and must reach its own directory.
chmod 0755 "$S"
mkdir -p "$S/state" "$S/spool" "$S/log" "$S/run"
install -d -o munge -g munge -m 0755 "$S/munge"   # clients need x on the socket dir

# Ports: a pair nobody listens on, so that several clusters (or a system one) can coexist.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }   # something accepts there
port=${ES_SLURM_PORT:-6817}
if [ -z "${ES_SLURM_PORT:-}" ]; then
  while in_use "$port" || in_use $((port + 1)); do port=$((port + 2)); done
fi
cpus=$(nproc)
# RealMemory above the real amount would drain the node ("Low RealMemory").
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

cat > "$S/slurm.conf" <<EOF
# One-node Slurm for edgesweep tests; written by scripts/slurm-local-start.sh
ClusterName=es
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again (default 120 s).
AuthInfo=socket=$S/munge/munge.socket,cred_expire=10
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmdPidFile=$S/run/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
JobCompType=jobcomp/none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
# Look at pending jobs every few seconds (default 60 / 30 s): requeued jobs restart promptly.
SchedulerParameters=sched_interval=3,bf_interval=3
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=10
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
# Not read with proctrack/linuxproc + task/none; here so that switching to cgroup plugins
# does not pick up /etc/slurm/cgroup.conf.
cat > "$S/cgroup.conf" <<EOF
CgroupAutomount=yes
ConstrainCores=no
ConstrainRAMSpace=no
EOF
export SLURM_CONF=$S/slurm.conf

# A private munge key: the cluster trusts only itself.
dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$S/munge/munge.key"
chmod 0400 "$S/munge/munge.key"

record() { echo "$1 $2" >> "$S/pids"; }
# setpriv execs, so $! is the daemon itself (runuser would stay in between).
setpriv --reuid=munge --regid=munge --init-groups \
  munged --foreground --socket="$S/munge/munge.socket" --key-file="$S/munge/munge.key" \
  --pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" \
  --seed-file="$S/munge/munged.seed" < /dev/null > "$S/log/munged.out" 2>&1 &
record munged $!
for _ in $(seq 100); do [ -S "$S/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$S/munge/munge.socket" ] || { cat "$S/log/munged.out" "$S/munge/munged.log" >&2 2>/dev/null
                                     die "munged did not start (log above)"; }

slurmctld -D -f "$SLURM_CONF" < /dev/null > "$S/log/slurmctld.out" 2>&1 &
record slurmctld $!
slurmd -D -f "$SLURM_CONF" -N localhost < /dev/null > "$S/log/slurmd.out" 2>&1 &
record slurmd $!

# Up when the node reports idle; the machine may be busy, so allow 60 s.
for _ in $(seq 300); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 0.2
done
if ! sinfo -h -o %T 2>/dev/null | grep -qx idle; then
  for f in slurmctld.out slurmctld.log slurmd.out slurmd.log; do
    echo "--- $S/log/$f" >&2; tail -n 20 "$S/log/$f" >&2 2>/dev/null || true
  done
  die "the node did not become idle within 60 s (logs above; stop with scripts/slurm-local-stop.sh $S)"
fi
echo "slurm-local-start: cluster up in $S (ports $port/$((port + 1)), $cpus CPUs)"
echo "export SLURM_CONF=$SLURM_CONF"
