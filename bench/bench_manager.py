#!/usr/bin/python3
"""How many tasks per second rank 0 hands out, and what one point's HDF5
write costs, with tiny tasks (width 4.., depth 1..2, 8 networks) so that nothing but the
manager and the file is measured. The grid grows along width (10 sigma_w2 x 1 sigma_b2 x W
widths): more points, but the per-(sigma_w2, sigma_b2) mean-field work before the sweep stays
fixed. Times come from the task ledger (/run/task_start, task_end: the sweep's span, without
start-up and mean-field theory).

    bench/bench_manager.py --edgesweep build-bench/edgesweep [--ranks 1,2,8] [--widths 200]

Per rank count it runs networks_per_task = 1 (8 tasks per point) and = 8 (1 task per point).
On one rank everything is sequential, so span - compute = P w + tasks l gives the per-point
write w (fields, state, status) and the per-task cost l (hand-out, ledger row) from the two runs.
Ranks beyond the cores are oversubscribed: their busy-polling steals rank 0's core, so the
rates at 8 ranks are lower bounds for a cluster where rank 0 has a core of its own."""
import argparse
import json
import os
import subprocess
import tempfile
import time

import h5py

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
ap.add_argument("--edgesweep", default="build-bench/edgesweep")
ap.add_argument("--ranks", default="1,2,8")
ap.add_argument("--widths", type=int, default=200, help="widths 4..4+W-1: 10 W points")
ap.add_argument("--json", action="store_true")
args = ap.parse_args()

env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")
d = tempfile.mkdtemp(prefix="es-manager-")
job = os.path.join(d, "tiny.ini")
with open(job, "w") as f:
    f.write(f"""[run]
name = tiny
seed = 3
[network]
activation = tanh
[grid]
sigma_w2 = linspace(0.5, 3, 10)
sigma_b2 = 0.05
depth = 1, 2
width = range(4, {4 + args.widths})
[ensemble]
networks = 8
""")

rows = []
for ranks in [int(r) for r in args.ranks.split(",")]:
    for npt in (1, 8):
        out = os.path.join(d, f"t{ranks}-{npt}.h5")
        cmd = ["mpirun", "--oversubscribe", "-n", str(ranks), args.edgesweep, "run", job,
               "-o", out, "--force", "--quiet", "--set", f"ensemble.networks_per_task={npt}"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env)
        wall = time.perf_counter() - t0
        with h5py.File(out, "r") as f:
            s, e = f["run/task_start"][()], f["run/task_end"][()]
            comp = f["run/task_seconds"][()].sum()
            npoints = f["run/status"].size
        span = e.max() - s.min()
        rows.append({"ranks": ranks, "networks_per_task": npt, "tasks": len(s),
                     "points": int(npoints), "wall": wall, "span": float(span),
                     "compute": float(comp), "tasks_per_s": len(s) / span,
                     "points_per_s": npoints / span})

res = {"rows": rows}
one = {r["networks_per_task"]: r for r in rows if r["ranks"] == 1}
if len(one) == 2:
    # span - compute = P w + tasks l, from the two one-rank runs (P points in both).
    a, b = one[1], one[8]
    P = a["points"]
    l = ((a["span"] - a["compute"]) - (b["span"] - b["compute"])) / (a["tasks"] - b["tasks"])
    w = ((b["span"] - b["compute"]) - b["tasks"] * l) / P
    res.update(per_task_s=l, per_point_write_s=w)
if args.json:
    print(json.dumps(res))
else:
    print("| ranks | networks/task | tasks | points | wall s | sweep span s | compute s (sum) "
          "| tasks/s | points/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['ranks']} | {r['networks_per_task']} | {r['tasks']} | {r['points']} | "
              f"{r['wall']:.2f} | {r['span']:.3f} | {r['compute']:.3f} | "
              f"{r['tasks_per_s']:.0f} | {r['points_per_s']:.0f} |")
    if "per_task_s" in res:
        print(f"\none rank: per task (hand-out + ledger row) {res['per_task_s'] * 1e6:.0f} us, "
              f"per point write {res['per_point_write_s'] * 1e6:.0f} us")
