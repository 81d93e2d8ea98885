#!/bin/bash
# W-ref in one go: build, edgesweep on 1 and 2 ranks, the floor, the peers on
# subsets (extrapolated linearly in their work, and labelled so), then a table of times and
# ratios. Usage:
#   bench/run.sh            full: edgesweep best of 3, explicit peers on 1/128 of W-ref
#   bench/run.sh --quick    best of 1, explicit peers on 1/2048 of W-ref, numpy gram on 1/8
# and, last, bench/bench_rank0.py (rank 0 and the owners: requests, writes; 1/2/8 ranks).
# Environment: BUILD (default build-bench), REPS (edgesweep repetitions).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
if ((QUICK)); then
  REPS=${REPS:-1}
  EXPLICIT=(--sw2 1.6 --sb2 0 --networks 2 --depth 8)  # all widths: N = 1024 dominates
  RANK0=(--tasks 1ms)
  GRAM=(--sw2 1.6,2.4 --sb2 0)
else
  REPS=${REPS:-3}
  EXPLICIT=(--sw2 1.6 --sb2 0 --networks 8)
  GRAM=()
  RANK0=(--tasks 1ms,10ms,100ms)
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
PY=/usr/bin/python3
[[ -f $BUILD/build.ninja ]] || meson setup "$BUILD" --buildtype=release >/dev/null
ninja -C "$BUILD" >/dev/null
OUT=$(mktemp -d /tmp/edgesweep-bench.XXXXXX)
RES=$OUT/results.jsonl

echo "date   $(date -u +%FT%TZ)"
echo "host   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores;" \
  "flags: $(grep -o -w 'avx2\|avx512f\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "load   $(uptime | sed 's/.*load average/load average/') (shared machine: best-of timings)"
if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "commit $(git rev-parse --short=12 HEAD) (+ uncommitted changes: $(git status --porcelain \
    src include | wc -l) files in src/ include/)"
else
  echo "tree   $(pwd) (not a git work tree)"
fi

# End to end, start-up and HDF5 output included: the wall time of the whole mpirun, the CPU
# seconds of mpirun and its ranks, and of the busiest rank (less sensitive to other jobs).
run_es() {  # ranks
  $PY - "$1" "$REPS" "$BUILD/edgesweep" "$OUT/wref$1.h5" "$OUT/ranks$1.cpu" <<'PYEOF' | tee -a "$RES"
import json, os, resource, subprocess, sys, time
ranks, reps, exe, out, cpuf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
# Each rank under /usr/bin/time (appending one line): the busiest rank's CPU seconds estimate
# the wall time on an idle machine, and give a load-independent parallel efficiency.
wrap = ["/usr/bin/time", "-a", "-o", cpuf, "-f", "%U %S"] if os.path.exists("/usr/bin/time") else []
best, cpu, rank_max = None, None, None
for _ in range(reps):
    if os.path.exists(cpuf):
        os.remove(cpuf)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # "alone": no mpirun at all, one process on one core (the per-core comparison).
    launch = [] if ranks == "alone" else ["mpirun", "-n", ranks] + wrap
    subprocess.run(launch + [exe, "run", "bench/wref.ini", "-o", out, "--force", "--quiet"],
                   check=True)
    t = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    best = t if best is None else min(best, t)
    cpu = c if cpu is None else min(cpu, c)
    if ranks == "alone":
        rank_max = cpu
    elif wrap:
        m = max(sum(map(float, l.split())) for l in open(cpuf) if l.strip())
        rank_max = m if rank_max is None else min(rank_max, m)
print(json.dumps({"peer": f"edgesweep_{ranks}", "seconds": best, "cpu_seconds": cpu,
                  "rank_cpu_max": rank_max, "reps": reps}))
PYEOF
}
run_es 1
run_es 2
run_es alone

for r in 1 2 3; do "$BUILD/bench/bench_floor" --json; done >"$OUT/floor.jsonl"
$PY -c "
import json,sys
rows=[json.loads(l) for l in open('$OUT/floor.jsonl')]
best={k:min(r[k] for r in rows) for k in ('ns_normal','ns_eval_deriv','ns_eval','ns_glibc_tanh',
      'ns_normal_scalar','ns_eval_deriv_scalar')}
best.update(rng_path=rows[0]['rng_path'], act_path=rows[0]['act_path'])
per=3*best['ns_normal']+best['ns_eval_deriv']+best['ns_eval']
w=rows[0]['work']
best.update(peer='floor', ns_per_neuron_layer=per, work=w, seconds=w*per*1e-9/2)
print(json.dumps(best))" >>"$RES"
tail -1 "$RES"

# Peers: numpy gram on one core (the per-core comparison), explicit peers on the machine's
# two cores (their own threading; the normals they draw are single-threaded anyway).
$PY bench/peers/numpy_gram.py --threads 1 --json "${GRAM[@]}" | tee -a "$RES"
$PY bench/peers/numpy_explicit.py --threads 2 --json "${EXPLICIT[@]}" | tee -a "$RES"
$PY bench/peers/torch_explicit.py --threads 2 --json "${EXPLICIT[@]}" | tee -a "$RES"

$PY - "$RES" <<'PYEOF'
import json, sys
r = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    r[d["peer"]] = d
e1, e2, fl, ea = r["edgesweep_1"], r["edgesweep_2"], r["floor"], r.get("edgesweep_alone")
t1, t2, c1, c2 = e1["seconds"], e2["seconds"], e1["cpu_seconds"], e2["cpu_seconds"]
print()
print("Wall: best of the repetitions. CPU: user+sys of all processes (mpirun, ranks, threads);")
print("on a shared machine CPU/cores estimates the wall time of an idle one.")
print()
print("| what | wall s | CPU s | how | ratios |")
print("|---|---|---|---|---|")
m1, m2 = e1.get("rank_cpu_max"), e2.get("rank_cpu_max")
busiest = (f"; busiest rank {m2:.3f} CPU s" if m2 else "")
print(f"| edgesweep, mpirun -n 2, end to end | {t2:.3f} | {c2:.3f} | measured | "
      f"CPU/2 = {c2 / 2:.3f} s{busiest} |")
eff = f", busiest rank CPU {m1 / (2 * m2):.1%}" if m1 and m2 else ""
print(f"| edgesweep, mpirun -n 1, end to end | {t1:.3f} | {c1:.3f} | measured | "
      f"parallel efficiency 1->2 ranks: wall {t1 / (2 * t2):.1%}, CPU {c1 / c2:.1%}{eff} |")
if ea:
    print(f"| edgesweep alone (no mpirun, one core), end to end | {ea['seconds']:.3f} | "
          f"{ea['cpu_seconds']:.3f} | measured | |")
print(f"| floor, 2 cores: 3 normals ({fl['ns_normal']:.2f} ns) + tanh&tanh' "
      f"({fl['ns_eval_deriv']:.2f} ns) + tanh ({fl['ns_eval']:.2f} ns) per neuron-layer-network"
      f" | {fl['seconds']:.3f} | | best-of ns x {fl['work']:.4g} / 2 | edgesweep -n 2 / floor:"
      f" wall {t2 / fl['seconds']:.2f}, CPU/2 {c2 / 2 / fl['seconds']:.2f} |")
for name, how in (("numpy_gram", "1 thread"), ("numpy_explicit", "BLAS 2 threads"),
                  ("torch_explicit", "2 threads")):
    d = r.get(name)
    if not d or "error" in d:
        why = d["error"] if d else "not run"
        print(f"| {name} ({how}) | not measured | | {why} | |")
        continue
    t, c = d["extrapolated_seconds"], d["extrapolated_cpu_seconds"]
    lab = (f"EXTRAPOLATED x{d['factor']:.4g} from {d['seconds']:.2f} s" if d["extrapolated"]
           else "measured, full W-ref")
    extra = ""
    if name == "numpy_gram":
        extra = (f"; per core (edgesweep -n 2 core-seconds): wall {t / (2 * t2):.2f}x, "
                 f"CPU {c / c2:.2f}x")
        if ea:
            extra += f"; one core each (alone): CPU {c / ea['cpu_seconds']:.2f}x"
    print(f"| {name} ({how}) | {t:.1f} | {c:.1f} | {lab} | peer / edgesweep -n 2: wall "
          f"{t / t2:.3g}x, CPU {c / c2:.3g}x{extra} |")
print(f"\nfloor paths: normals {fl['rng_path']}, activation {fl['act_path']}. For scale: "
      f"scalar+fma path normal {fl['ns_normal_scalar']:.2f} ns, tanh&tanh' "
      f"{fl['ns_eval_deriv_scalar']:.2f} ns; glibc scalar tanh {fl['ns_glibc_tanh']:.2f} ns")
PYEOF

$PY bench/plot_wref.py "$RES" --out "$OUT/wref.png" && echo "figure: $OUT/wref.png"

# Rank 0 and the owners: requests answered, CPU per request, writes per point, up to 8 ranks.
echo
$PY bench/bench_rank0.py --edgesweep "$BUILD/edgesweep" --ranks 1,2,8 "${RANK0[@]}"
echo "raw results: $RES"
