#!/usr/bin/python3
"""W-ref at a glance: wall seconds of edgesweep, its floor and the peers on a log axis, from
the results.jsonl that bench/run.sh writes. Extrapolated peers are hatched and say so.
Usage: bench/plot_wref.py RESULTS.jsonl [--out wref.png]"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("results")
ap.add_argument("--out", default="wref.png")
a = ap.parse_args()
r = {}
for line in open(a.results):
    d = json.loads(line)
    r[d["peer"]] = d

rows = []  # (label, seconds, extrapolated)
fl = r.get("floor")
if fl:
    rows.append(("floor: 3 normals + 2 tanh\nper neuron-layer-network, 2 cores", fl["seconds"], 0))
for key, label in (("edgesweep_2", "edgesweep, mpirun -n 2"),
                   ("edgesweep_alone", "edgesweep alone, 1 core"),
                   ("edgesweep_1", "edgesweep, mpirun -n 1")):
    if key in r:
        rows.append((label, r[key]["seconds"], 0))
for key, label in (("numpy_gram", "numpy, gram algorithm, 1 core"),
                   ("numpy_explicit", "numpy, explicit weights, 2 threads"),
                   ("torch_explicit", "PyTorch, explicit weights, 2 threads")):
    d = r.get(key)
    if d and "error" not in d:
        rows.append((label, d["extrapolated_seconds"], d["factor"] if d["extrapolated"] else 0))

fig, ax = plt.subplots(figsize=(9.5, 0.55 * len(rows) + 1.4))
y = list(range(len(rows)))[::-1]
for yi, (label, t, ext) in zip(y, rows):
    colour = "#bbbbbb" if label.startswith("floor") else ("#1f77b4" if "edgesweep" in label
                                                          else "#d62728")
    ax.barh(yi, t, color=colour, hatch="//" if ext else None, edgecolor="black", linewidth=0.5)
    note = f"{t:.3g} s" + (f"  (extrapolated x{ext:.4g})" if ext else "")
    ax.text(t * 1.15, yi, note, va="center", fontsize=9)
ax.set_yticks(y)
ax.set_yticklabels([row[0] for row in rows], fontsize=9)
ax.set_xscale("log")
ax.set_xlim(min(row[1] for row in rows) / 2, max(row[1] for row in rows) * 60)
ax.set_xlabel("wall seconds for W-ref (end to end; log scale)")
ax.set_title("W-ref: tanh, 48 points, depth 64, N <= 1024, 64 networks (8.8e7 neuron-layer-networks)",
             fontsize=9)
fig.tight_layout()
fig.savefig(a.out, dpi=120)
