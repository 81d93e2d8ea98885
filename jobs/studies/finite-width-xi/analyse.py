#!/usr/bin/python3
"""Figure and table of the finite-width correlation-length study (README.md beside this file).

usage: analyse.py [--data DIR] [--out DIR] [--window T1 T2]

DIR holds the replicas xi_c_*.h5 of xi_c.ini (one per seed, same networks count). Per replica
and width, xi is -1/slope of a weighted least-squares line through ln(1 - E c^t) over the
depth window (weights from the per-depth standard errors sqrt(Var c/M)); the estimate is the
mean over replicas and its error the replicas' standard deviation / sqrt(R): depths share
networks, so the fit's own error would ignore their correlation. The same fit of the MFT
trajectory /mft/c over the same window is the N -> infinity reference (it differs from the
asymptotic MFT xi_c only by the small nonlinearity of the c-map at 1 - c ~ 1e-3). The fit is
repeated over the windows 2..20, 10..40 and 20..40: the largest change of (measured - theory)
from the main window is quoted as a systematic error (the local decay rate at finite N drifts
with depth by about that much), added in quadrature for the z-scores. Reads the
files through analysis/edgesweep_analysis. Writes xi_c_width.png and results.md to --out
(default: this directory) and prints the table.
"""
import argparse
import glob
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "analysis"))
from edgesweep_analysis import io  # noqa: E402

W, B, D, N = "sigma_w2", "sigma_b2", "depth", "width"


def fit_xi(t, y, se):
    """-1/slope of ln y against t, weighted by y/se (the inverse error of ln y)."""
    slope = np.polyfit(t, np.log(y), 1, w=y / se)[0]
    return -1 / slope


def read(path, window):
    with io.open_run(path) as run:
        t = run.coord(D).astype(float)
        sel = (t >= window[0]) & (t <= window[1])
        cm = run.field("ensemble/c_mean", (W, B, D, N)).values[0, 0]
        cv = run.field("ensemble/c_var", (W, B, D, N)).values[0, 0]
        m = run.field("ensemble/networks", (W, B, D, N)).values[0, 0].astype(float)
        y, se = 1 - cm, np.sqrt(cv / m)
        xi = np.array([fit_xi(t[sel], y[sel, j], se[sel, j]) for j in range(y.shape[1])])
        mft_c = run.field("mft/c", (W, B, D)).values[0, 0]
        return {
            "t": t, "widths": run.coord(N).astype(float), "xi": xi, "y": y, "se": se,
            "M": float(m.flat[0]), "mft_y": 1 - mft_c,
            "mft_fit": fit_xi(t[sel], 1 - mft_c[sel], np.ones(sel.sum())),
            "theory": run.field("theory/xi_c", (W, B, N)).values[0, 0],
            "mft_xi": float(run.field("mft/xi_c", (W, B)).values[0, 0]),
            "phase_xi": run.field("phase/xi_c", (W, B, N)).values[0, 0],
            "sw2": float(run.coord(W)[0]), "sb2": float(run.coord(B)[0]),
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=".")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--window", nargs=2, type=float, default=(2, 40))
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.data, "xi_c_*.h5")))
    if len(paths) < 3:
        sys.exit(f"analyse.py: need at least 3 replicas xi_c_*.h5 in {a.data}")
    def estimate(window):
        reps = [read(p, window) for p in paths]
        xi = np.array([r["xi"] for r in reps])
        r0 = reps[0]
        # The theory over the same window: the asymptotic 1/N shift added to the MFT fit.
        th = r0["mft_fit"] + (r0["theory"] - r0["mft_xi"])
        return reps, xi.mean(0), xi.std(0, ddof=1) / np.sqrt(len(reps)), th

    reps, meas, err, th_win = estimate(a.window)
    r0, R = reps[0], len(reps)
    widths, t = r0["widths"], r0["t"]
    syst = np.zeros(len(widths))
    for w in ((2, 20), (10, 40), (20, 40)):
        if tuple(w) != tuple(a.window):
            _, m_w, _, th_w = estimate(w)
            syst = np.maximum(syst, np.abs((m_w - th_w) - (meas - th_win)))
    tot = np.hypot(err, syst)
    ph = np.array([r["phase_xi"] for r in reps])
    ph_mean, ph_err = ph.mean(0), ph.std(0, ddof=1) / np.sqrt(R)
    theory, ref, mft = r0["theory"], r0["mft_fit"], r0["mft_xi"]
    rows = []
    head = (f"tanh sigma_w2 = {r0['sw2']}, sigma_b2 = {r0['sb2']}: {R} replicas x "
            f"{int(r0['M'])} networks per width, fit window t = {a.window[0]:g}..{a.window[1]:g}")
    rows.append(head)
    rows.append("")
    rows.append("| N | measured xi_c ± stat ± window | theory xi_c,N | z (meas - theory) "
                "| measured shift | theory shift | z (shift vs 0) | /phase/xi_c (replica mean) |")
    rows.append("|---|---|---|---|---|---|---|---|")
    for j, n in enumerate(widths):
        z_th = (meas[j] - th_win[j]) / tot[j]
        z_0 = (meas[j] - ref) / tot[j]
        rows.append(f"| {int(n)} | {meas[j]:.3f} ± {err[j]:.3f} ± {syst[j]:.3f} | {th_win[j]:.3f} "
                    f"| {z_th:+.1f} | {meas[j] - ref:+.3f} ± {tot[j]:.3f} | {theory[j] - mft:+.3f} "
                    f"| {z_0:+.1f} | {ph_mean[j]:.3f} ± {ph_err[j]:.3f} |")
    rows.append(f"| inf (MFT) | {ref:.4f} (fit of /mft/c) | {mft:.4f} (asymptotic) | | | | | |")
    text = "\n".join(rows)
    print(text)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("# Results (written by analyse.py)\n\n" + text + "\n")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.2))
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(widths)))
    y = np.mean([r["y"] for r in reps], 0)
    se = np.sqrt(np.mean([r["se"] ** 2 for r in reps], 0) / R)
    for j, n in enumerate(widths):
        ax1.errorbar(t, y[:, j], yerr=se[:, j], fmt="o", ms=3, color=colors[j], label=f"N = {int(n)}")
        ax1.plot(t, y[0, j] * np.exp(-(t - t[0]) / theory[j]), "-", color=colors[j], lw=1)
    ax1.plot(t, r0["mft_y"], "k--", lw=1, label="MFT (N = ∞)")
    ax1.set_yscale("log")
    ax1.set_xlabel("depth t")
    ax1.set_ylabel("1 − E c^t")
    ax1.set_title("measured (points), slope of the 1/N theory (lines)", fontsize=9)
    ax1.legend(fontsize=8)
    inv = np.linspace(0, 1 / widths.min() * 1.1, 50)
    dc = (1 / mft - 1 / theory[0]) * widths[0]  # c_mean, recovered from the file's theory
    ax2.plot(inv, ref - mft + 1 / (1 / mft - dc * inv), "k-", lw=1,
             label="theory: 1/ξ_N = 1/ξ − c_mean/N")
    ax2.plot(inv, ref + mft ** 2 * dc * inv, "k:", lw=1, label="first order: ξ + ξ² c_mean/N")
    ax2.errorbar(1 / widths, meas, yerr=tot, fmt="o", color="C3",
                 label="measured (stat ⊕ window)")
    ax2.plot([0], [ref], "ks", label="MFT")
    ax2.set_xlabel("1/N")
    ax2.set_ylabel(f"ξ_c (layers), fit over t = {a.window[0]:g}..{a.window[1]:g}")
    ax2.legend(fontsize=8)
    fig.suptitle(head, fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "xi_c_width.png"), dpi=120)


if __name__ == "__main__":
    main()
