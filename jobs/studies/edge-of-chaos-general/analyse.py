#!/usr/bin/python3
"""Figure and table of the general model's edge-of-chaos study (README.md beside this file).

usage: analyse.py [--data DIR] [--out DIR]

DIR holds eoc_<gamma>_<g>.h5 from run.sh. Per file: the theory's line /mft/critical_sigma_w2
(stationary DMFT, T -> infinity), the theory's zero crossing of the same finite-depth
estimator the measurement uses, lambda_T = (logjac^T - logjac^1)/(2(T-1)) of the MFT/DMFT
trajectory /mft/logjac (linear interpolation along sigma_w2, as /phase does), and the
measured crossing /phase/critical_sigma_w2 with its error at each width, and the linear
extrapolation in 1/N from the two widths. z = (measured - theory at T)/error. Reads the files through analysis/edgesweep_analysis; writes
eoc_general.png and results.md to --out (default: this directory) and prints the table.
"""
import argparse
import glob
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "analysis"))
from edgesweep_analysis import io  # noqa: E402

W, B, D, N = "sigma_w2", "sigma_b2", "depth", "width"


def crossing(x, y):
    """First upward zero crossing of y(x) by linear interpolation (NaN: none)."""
    for i in range(len(x) - 1):
        if y[i] < 0 <= y[i + 1]:
            return x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i])
    return np.nan


def read(path):
    gam, g = map(float, re.match(r"eoc_([0-9.]+)_([0-9.]+)\.h5", os.path.basename(path)).groups())
    with io.open_run(path) as run:
        sw = run.coord(W).astype(float)
        t = run.coord(D).astype(float)
        lj = run.field("mft/logjac", (W, B, D)).values[:, 0, :]
        lam_t = (lj[:, -1] - lj[:, 0]) / (2 * (t[-1] - t[0]))
        return {
            "gamma": gam, "g": g, "sw": sw, "T": int(t[-1]),
            "widths": run.coord(N).astype(int),
            "lam_mft": run.field("mft/lyapunov", (W, B)).values[:, 0],
            "lam_t": lam_t,
            "lam": run.field("phase/lyapunov", (W, B, N)).values[:, 0, :],
            "lam_se": run.field("phase/lyapunov_stderr", (W, B, N)).values[:, 0, :],
            "crit": float(run.field("mft/critical_sigma_w2", (B,)).values[0]),
            "crit_t": crossing(sw, lam_t),
            "meas": run.field("phase/critical_sigma_w2", (B, N)).values[0],
            "meas_err": run.field("phase/critical_sigma_w2_err", (B, N)).values[0],
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/eoc-general")
    ap.add_argument("--out", default=HERE)
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.data, "eoc_*.h5")))
    if not paths:
        sys.exit(f"analyse.py: no eoc_*.h5 in {a.data}")
    runs = sorted((read(p) for p in paths), key=lambda r: (r["g"], -r["gamma"]))
    rows = ["| gamma | g | sigma_w2,c theory (T = inf) | theory at T | N | measured | error | "
            "z (vs theory at T) |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        for j, n in enumerate(r["widths"]):
            z = (r["meas"][j] - r["crit_t"]) / r["meas_err"][j]
            rows.append(f"| {r['gamma']:g} | {r['g']:g} | {r['crit']:.5f} | {r['crit_t']:.4f} | "
                        f"{n} | {r['meas'][j]:.4f} | {r['meas_err'][j]:.4f} | {z:+.2f} |")
        # The measured shift falls with N (toward order, as the typical lambda of fresh
        # weights does at O(1/N)); linear extrapolation in 1/N from the two widths.
        n1, n2 = r["widths"][:2]
        m1, m2 = r["meas"][:2]
        e1, e2 = r["meas_err"][:2]
        x = (n2 * m2 - n1 * m1) / (n2 - n1)
        ex = np.hypot(n2 * e2, n1 * e1) / (n2 - n1)
        r["extrap"], r["extrap_err"] = x, ex
        if np.isfinite(x):
            rows.append(f"| {r['gamma']:g} | {r['g']:g} | {r['crit']:.5f} | {r['crit_t']:.4f} | "
                        f"1/N -> 0 | {x:.4f} | {ex:.4f} | {(x - r['crit_t']) / ex:+.2f} |")
    table = "\n".join(rows)
    print(table)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(f"Measured lambda zero crossings (T = {runs[0]['T']}) against the stationary "
                "DMFT (analyse.py)\n\n" + table + "\n")

    fig, axes = plt.subplots(2, 4, figsize=(17, 7.8))
    for k, r in enumerate(runs):
        ax = axes.flat[k]
        ax.axhline(0, color="0.7", lw=0.8)
        ax.plot(r["sw"], r["lam_mft"], "k-", label="DMFT, T = inf")
        ax.plot(r["sw"], r["lam_t"], "k--", label=f"DMFT, T = {r['T']}")
        for j, n in enumerate(r["widths"]):
            ax.errorbar(r["sw"], r["lam"][:, j], r["lam_se"][:, j], fmt="o", ms=3,
                        label=f"measured N = {n}")
        ax.axvline(r["crit"], color="k", lw=0.6, ls=":")
        ax.set_title(f"gamma = {r['gamma']:g}, g = {r['g']:g}")
        ax.set_xlabel("sigma_w2")
        ax.set_ylabel("lambda per step")
        if k == 0:
            ax.legend(fontsize=7)
    ax = axes.flat[6]
    for g, mk in ((0.0, "o"), (0.05, "s")):
        sel = [r for r in runs if r["g"] == g]
        gam = np.array([r["gamma"] for r in sel])
        ax.plot(gam, [r["crit"] for r in sel], "k" + mk + "-", mfc="none",
                label=f"theory T = inf, g = {g:g}")
        ax.plot(gam, [r["crit_t"] for r in sel], "k" + mk + "--", label=f"theory T, g = {g:g}")
        for j, n in enumerate(sel[0]["widths"]):
            ax.errorbar(gam + 0.01 * (j + 1), [r["meas"][j] for r in sel],
                        [r["meas_err"][j] for r in sel], fmt=mk, ms=4, label=f"N = {n}, g = {g:g}")
        ex = np.array([r["extrap"] for r in sel])
        ok = np.isfinite(ex)
        ax.errorbar(gam[ok] - 0.01, ex[ok], np.array([r["extrap_err"] for r in sel])[ok],
                    fmt=mk, ms=5, color="crimson", label=f"1/N -> 0, g = {g:g}")
    ax.set_xlabel("leak gamma")
    ax.set_ylabel("critical sigma_w2 (tanh, sigma_b2 = 0.05)")
    ax.legend(fontsize=6)
    axes.flat[7].axis("off")
    fig.suptitle("Edge of chaos of recurrent tanh nets with leak and noise: stationary DMFT vs "
                 "measured lambda")
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "eoc_general.png"), dpi=110)


if __name__ == "__main__":
    main()
