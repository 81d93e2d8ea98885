#!/usr/bin/python3
"""Rank 0 at scale: what rank 0 spends per request, how many requests a sweep makes, what the
owners spend per point written and how many bytes a task sends, for 1..64 ranks and tasks of
about 1 ms to 1 s, read from the EDGESWEEP_STATS lines every run prints (thread CPU seconds,
so an oversubscribed rank's waits for a core are not counted as its work).

    bench/bench_rank0.py --edgesweep BUILD/edgesweep [--ranks 1,2,4,8,16,32,64]
                         [--tasks 1ms,10ms,100ms,1s] [--json]

Ranks beyond the cores are oversubscribed (here 2 cores): the wall time then measures the
cores, not the ranks; rank 0's CPU per request and the counts are what carry over to a
cluster. The model built on these numbers is in bench/README.md, "Rank 0 at scale"."""
import argparse
import json
import os
import subprocess
import tempfile
import time

# Task shapes: tanh, gram, feedforward; a network costs ~9 ns x N x T (bench/README.md).
# (width, deepest depth, recorded depths, networks, networks per task, sigma_w2 x sigma_b2)
SHAPES = {
    "1ms": (64, 50, "range(1, 51)", 32, 0, (40, 50)),
    "10ms": (256, 100, "range(1, 101)", 32, 0, (20, 20)),
    "100ms": (1024, 100, "range(1, 101, 3)", 96, 0, (8, 5)),
    "1s": (1024, 200, "range(1, 201, 5)", 4000, 500, (2, 2)),
}

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
ap.add_argument("--edgesweep", default="build/edgesweep")
ap.add_argument("--ranks", default="1,2,4,8,16,32,64")
ap.add_argument("--tasks", default="1ms,10ms,100ms,1s")
ap.add_argument("--json", action="store_true")
args = ap.parse_args()

env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1", EDGESWEEP_STATS="1")
d = tempfile.mkdtemp(prefix="es-rank0-")
COLS = ["rank", "wall_s", "requests", "us/request", "tasks", "compute_s", "kB/sent", "pairs",
        "pair_s", "taken", "points", "us/taken", "us/point", "wait_s", "raw_io"]


def stats(stderr):
    """{rank or 'all': {column: value}} from the EDGESWEEP_STATS lines."""
    out = {}
    for line in stderr.splitlines():
        if not line.startswith("edgesweep: stats:") or "wall_s" in line:
            continue
        v = line.split(":", 2)[2].split()
        row = {c: float(x) for c, x in zip(COLS[1:], v[1:])}
        out[v[0]] = row
    return out


rows = []
for shape in args.tasks.split(","):
    n, tmax, depths, m, npt, (nw, nb) = SHAPES[shape]
    job = os.path.join(d, f"{shape}.ini")
    with open(job, "w") as f:
        f.write(f"""[run]
name = rank0-{shape}
seed = 5
[network]
activation = tanh
c0 = 0.5
[grid]
sigma_w2 = linspace(0.5, 3, {nw})
sigma_b2 = linspace(0, 0.3, {nb})
depth = {depths}
width = {n}
[ensemble]
networks = {m}
networks_per_task = {npt}
""")
    for ranks in [int(r) for r in args.ranks.split(",")]:
        out = os.path.join(d, f"{shape}-{ranks}.h5")
        cmd = ["mpirun", "-n", str(ranks), args.edgesweep, "run", job, "-o", out, "--force",
               "--quiet"]
        if ranks == 1:
            cmd = cmd[3:]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode:
            raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
        os.remove(out)
        s = stats(p.stderr)
        r0, a = s["0"], s["all"]
        tasks = a["tasks"]
        rows.append({
            "tasks_of": shape, "ranks": ranks, "wall_s": wall, "sweep_s": r0["wall_s"],
            "tasks": tasks, "pairs": a["pairs"],
            "ms_per_task": 1e3 * a["compute_s"] / tasks,
            "requests": r0["requests"], "us_per_request": r0["us/request"],
            "rank0_serve_share": r0["requests"] * r0["us/request"] * 1e-6 / r0["wall_s"],
            "kB_per_result": a["kB/sent"], "us_per_point_written": a["us/point"],
            "us_fold_per_result": a["us/taken"],
            "owners": sum(1 for k, v in s.items() if k != "all" and v["points"] > 0),
            # Busy CPU over the cores the run had: what is left is waiting and bookkeeping.
            "busy_share": (a["compute_s"] + a["pair_s"] + a["us/point"] * a["points"] * 1e-6)
            / (r0["wall_s"] * min(ranks, os.cpu_count())),
        })
        print(json.dumps(rows[-1]) if args.json else
              f"{shape:>5} x {int(tasks):5d} tasks, {ranks:2d} ranks: sweep {r0['wall_s']:7.2f} s, "
              f"{rows[-1]['ms_per_task']:7.2f} ms/task, {int(r0['requests']):5d} requests at "
              f"{r0['us/request']:5.1f} us (rank 0 serving {100 * rows[-1]['rank0_serve_share']:.2f}%"
              f" of the sweep), {a['kB/sent']:7.2f} kB/result, write {a['us/point']:6.0f} us/point"
              f" on {rows[-1]['owners']} owners, busy {100 * rows[-1]['busy_share']:.0f}% of "
              f"{min(ranks, os.cpu_count())} cores", flush=True)
