#!/usr/bin/python3
"""Figures and numbers of the finite-width study (README.md beside this file).

usage: analyse.py [--data DIR] [--out DIR]

DIR holds variance_tanh.h5, variance_relu.h5 and critical_tanh.h5 (the outputs of the three
job files here). Writes variance_slope.png, breakdown.png, critical_line.png, xi_c.png and
results.md (the slope and breakdown tables) to --out (default: this directory), and prints
the tables.

Definitions (doc/physics.md §5, §7). R(t) = N Var q^t/(E q^t)^2; its leading-order theory is
(Vzz + 2K^2)/K^2 = N kurtosis_theory/3 + 2, independent of N. Per width, slopes are dR/dt
between t = 2 and the deepest t with t/N <= 0.1, measured and theory over the same window
(this includes the O(t^2/N^2) curvature); the "N -> inf" row fits R(t, N) = R_inf(t) + a/N
over the widths at t = 2 and at t2 and gives the slope of R_inf, the leading coefficient
itself. Errors are from the end points as if independent (they are positively correlated,
so this over-estimates). The leading order "stops" at the smallest t/N where measured/theory
- 1 of the normalised variance passes +-0.1 (and, separately, by more than 3 SE).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "analysis"))
from edgesweep_analysis import open_run  # noqa: E402
from edgesweep_analysis.estimators import (WBDN, lyapunov_from_logjac,  # noqa: E402
                                           nearest_index, relative_variance,
                                           relative_variance_se, relative_variance_theory,
                                           stderr, variance_se)

WB, WBN = ("sigma_w2", "sigma_b2"), ("sigma_w2", "sigma_b2", "width")
# doc/physics.md §5.3: first-order shift s of the typical-norm critical line, sw2_c + s/N
SHIFT = {("tanh", 0.05): 7.873, ("tanh", 0.2): 10.180, ("relu", 0.0): 5.0}
DEV = 0.1


def idx(axis, value):
    try:
        return nearest_index(axis, value, tol=1e-6)
    except ValueError as e:
        sys.exit(f"analyse.py: {e}")


def at(run, path, axes, iw, ib):
    return run.field(path, axes).values[iw, ib]


class Case:
    """One (sigma_w2, sigma_b2) of one file: measured and theory series over (depth, width),
    N times the package's normalised variances and their errors."""

    def __init__(self, run, sw2, sb2, name):
        self.name = name
        iw, ib = idx(run.coord("sigma_w2"), sw2), idx(run.coord("sigma_b2"), sb2)
        self.t = run.coord("depth").astype(float)
        self.N = run.coord("width").astype(float)
        self.M = at(run, "ensemble/networks", WBDN, iw, ib)
        self.R = self.N * relative_variance(run)[iw, ib]
        self.R_se = self.N * relative_variance_se(run)[iw, ib]
        self.R_th = self.N * relative_variance_theory(run)[iw, ib]
        self.dev = at(run, "theory/kernel_var_dev", WBDN, iw, ib)
        self.dev_se = at(run, "theory/kernel_var_dev_err", WBDN, iw, ib)
        self.J = self.N * at(run, "ensemble/logjac_var", WBDN, iw, ib)
        self.J_se = variance_se(self.J, self.M)
        self.J_th = self.N * at(run, "theory/logjac_var", WBDN, iw, ib)


def slope(t, y, se, y_th, N, tmin=2):
    """dY/dt between tmin and the deepest t with t/N <= 0.1: (measured, se, theory)."""
    ok = np.nonzero((t >= tmin) & (t / N <= 0.1))[0]
    if len(ok) < 2 or t[ok[-1]] - t[ok[0]] < 3:
        return None
    a, b = ok[0], ok[-1]
    dt = t[b] - t[a]
    return ((y[b] - y[a]) / dt, np.hypot(se[a], se[b]) / dt, (y_th[b] - y_th[a]) / dt,
            t[a], t[b])


def breakdown(t, N, dev, se):
    """Smallest t/N where |dev| exceeds DEV (point estimate) and where it does so by more
    than 3 SE (NaN: nowhere)."""
    out = []
    for bad in (np.isfinite(dev) & (np.abs(dev) > DEV),
                np.isfinite(dev) & (np.abs(dev) - 3 * se > DEV)):
        k = np.nonzero(bad)[0]
        out.append(t[k[0]] / N if len(k) else np.nan)
    return out


def extrapolated(c, y, se, t2):
    """R_inf(t) = the N -> infinity intercept of a weighted fit of y(t, N) = R_inf + a/N over
    the widths with t/N <= 0.25 (at least three), then its slope between t = 2 and T2: the
    leading-order coefficient itself, free of the O(t^2/N^2) terms. (slope, se)."""
    r = {}
    for k in (idx(c.t, 2.0), idx(c.t, t2)):
        ok = (c.t[k] / c.N <= 0.25) & np.isfinite(y[k]) & (se[k] > 0)
        if ok.sum() < 3:
            return None
        X = np.stack([np.ones(ok.sum()), 1 / c.N[ok]], 1)
        W = 1 / se[k, ok] ** 2
        cov = np.linalg.inv(X.T @ (W[:, None] * X))
        beta = cov @ X.T @ (W * y[k, ok])
        r[k] = (beta[0], np.sqrt(cov[0, 0]))
    (a, ea), (b, eb) = r.values()
    return (b - a) / (t2 - 2), np.hypot(ea, eb) / (t2 - 2)


def tables(cases):
    lines = ["| case | N | window t | measured slope | theory slope | |dev| > 0.1 from t/N "
             "| significantly (3 SE) from t/N |", "|---|---|---|---|---|---|---|"]
    for c, sector, t2 in cases:
        if sector == "q":
            Y, SE, TH, DEVS, DSE = c.R, c.R_se, c.R_th, c.dev, c.dev_se
        else:
            Y, SE, TH = c.J, c.J_se, c.J_th
            DEVS, DSE = Y / TH - 1, SE / TH
        for k, N in enumerate(c.N):
            s = slope(c.t, Y[:, k], SE[:, k], TH[:, k], N)
            b = breakdown(c.t, N, DEVS[:, k], DSE[:, k])
            where = [f"{x:.3g}" if np.isfinite(x) else f"never (t/N <= {c.t[-1] / N:.3g})"
                     for x in b]
            s_txt = "| - | - | - " if s is None else \
                f"| {s[3]:g}-{s[4]:g} | {s[0]:.3f} +- {s[1]:.3f} | {s[2]:.3f} "
            lines.append(f"| {c.name} | {int(N)} {s_txt}| {where[0]} | {where[1]} |")
        e = extrapolated(c, Y, SE, t2)
        th = (TH[idx(c.t, t2), -1] - TH[idx(c.t, 2.0), -1]) / (t2 - 2)
        if e is not None:
            lines.append(f"| {c.name} | N -> inf (fit in 1/N) | 2-{t2:g} | {e[0]:.3f} +- "
                         f"{e[1]:.3f} | {th:.3f} | | |")
    return "\n".join(lines)


def fig_variance(cases, path):
    fig, axes = plt.subplots(1, len(cases), figsize=(5.2 * len(cases), 4.4),
                             constrained_layout=True)
    for ax, (c, sector, title) in zip(axes, cases):
        colors = plt.cm.viridis(np.linspace(0, 0.85, len(c.N)))
        for k, (N, col) in enumerate(zip(c.N, colors)):
            # relu's q is near log-normal with Var ln q ~ 5t/N: past t/N ~ 0.25 its variance
            # is carried by networks too rare for the ensemble, so those points are left out
            keep = c.t / N <= (0.25 if sector == "relu" else 1.0)
            y, se = (c.R, c.R_se) if sector in ("q", "relu") else (c.J, c.J_se)
            ax.errorbar(c.t[keep], y[keep, k], yerr=se[keep, k], fmt="o", ms=2.5, lw=0.8,
                        color=col, label=f"N = {int(N)}")
            if sector == "relu":
                g = (1 + 5 / N) ** (c.t - 1) * (1 + 2 / N) - 1
                ax.plot(c.t[keep], N * g[keep], ":", color=col, lw=1.2)
        th = c.R_th if sector in ("q", "relu") else c.J_th
        ax.plot(c.t, th[:, -1], "k-", lw=1.6, label="1/N theory (leading order)")
        if sector == "relu":
            ax.plot([], [], "k:", label="exact law (1+5/N)^(t-1)(1+2/N)-1")
        if sector == "both":
            ax.errorbar(c.t, c.R[:, -1], yerr=c.R_se[:, -1], fmt="s", ms=2.5, color="0.5",
                        label=f"N Var q/(E q)^2, N = {int(c.N[-1])}")
            ax.plot(c.t, c.R_th[:, -1], "--", color="0.3", label="its theory (saturates)")
        ax.set_xlabel("depth t")
        ax.set_ylabel("N Var ln|Ju|^2" if sector == "both" else "N Var q / (E q)^2")
        ax.set_title(title, fontsize=10)
        ax.set_xlim(0, c.t[-1] + 1)
        top = np.nanmax(th[:, -1]) * 1.6
        ax.set_ylim(0, top)
        ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle("Finite-width fluctuations grow like t/N (points up to t/N = 1; relu: 0.25)")
    fig.savefig(path, dpi=130)
    plt.close(fig)


def fig_breakdown(cases, path):
    fig, axes = plt.subplots(1, len(cases), figsize=(5.2 * len(cases), 4.2),
                             constrained_layout=True, sharey=True)
    for ax, (c, sector, title) in zip(axes, cases):
        colors = plt.cm.viridis(np.linspace(0, 0.85, len(c.N)))
        for k, (N, col) in enumerate(zip(c.N, colors)):
            keep = c.t / N <= (0.5 if "relu" in c.name else np.inf)  # see fig_variance
            if sector == "q":
                dev, se = c.dev[:, k], c.dev_se[:, k]
            else:
                dev, se = c.J[:, k] / c.J_th[:, k] - 1, c.J_se[:, k] / c.J_th[:, k]
            ax.errorbar((c.t / N)[keep], dev[keep], yerr=se[keep], fmt="o-", ms=2.5, lw=0.8,
                        color=col, label=f"N = {int(N)}")
        ax.axhspan(-DEV, DEV, color="0.85", zorder=0, label=f"|dev| < {DEV:g}")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(-1, 1.5)
        ax.set_xlabel("depth / width  t/N")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7.5, loc="upper left")
    axes[0].set_ylabel("measured / leading-order theory - 1")
    fig.suptitle("Where the leading 1/N order stops describing the measurement")
    fig.savefig(path, dpi=130)
    plt.close(fig)


def crossing(x, y):
    """First zero crossing of y(x) from below, linear interpolation (NaN: none)."""
    for i in range(len(x) - 1):
        if np.isfinite(y[i]) and np.isfinite(y[i + 1]) and y[i] < 0 <= y[i + 1]:
            return x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i])
    return np.nan


def critical_rows(run, act):
    """Per sigma_b2: MFT sw2_c, measured sw2_c(N) +- err, theory at the same depth
    (crossing of the 1/N theory's lyapunov estimator), and the MFT estimator at that depth."""
    sw, sb, w = run.coord("sigma_w2"), run.coord("sigma_b2"), run.coord("width").astype(float)
    t = run.coord("depth").astype(float)
    B = ("sigma_b2",)
    lj_th = run.field("theory/logjac_mean", WBDN).values
    lj_mft = run.field("mft/logjac", ("sigma_w2", "sigma_b2", "depth")).values
    rows = []
    for ib, b in enumerate(sb):
        lam_th = lyapunov_from_logjac(np.moveaxis(lj_th[:, ib], 1, -1), t)  # (w, n)
        lam_mft = lyapunov_from_logjac(lj_mft[:, ib], t)
        rows.append(dict(act=act, sb2=b, N=w, mft=run.field("mft/critical_sigma_w2", B).values[ib],
                         meas=run.field("phase/critical_sigma_w2", ("sigma_b2", "width")).values[ib],
                         err=run.field("phase/critical_sigma_w2_err",
                                       ("sigma_b2", "width")).values[ib],
                         theory=np.array([crossing(sw, lam_th[:, k]) for k in range(len(w))]),
                         mft_depth=crossing(sw, lam_mft), T=int(t[-1])))
    return rows


def fig_critical(rows, path):
    fig, axes = plt.subplots(1, len(rows), figsize=(4.6 * len(rows), 4.2), constrained_layout=True)
    for ax, r in zip(axes, rows):
        x = 1 / r["N"]
        ax.errorbar(x, r["meas"], yerr=r["err"], fmt="o", color="C3", ms=5,
                    label="measured (λ at t = %d crosses 0)" % r["T"])
        ax.plot(x, r["theory"], "s--", color="C0", mfc="none",
                label="1/N theory, same estimator and depth")
        xx = np.linspace(0, x.max() * 1.05, 50)
        s = SHIFT.get((r["act"], round(float(r["sb2"]), 3)))
        if s is not None:
            ax.plot(xx, r["mft"] + s * xx, "k-", lw=1,
                    label=f"MFT + {s:g}/N (asymptotic, doc/physics.md 5.3)")
        ax.plot([0], [r["mft"]], "k*", ms=10, label="MFT σ_w,c²")
        if np.isfinite(r["mft_depth"]):
            ax.plot([0], [r["mft_depth"]], "x", color="C0", ms=8, mew=2,
                    label="MFT, same estimator at t = %d" % r["T"])
        ax.set_xlabel("1 / N")
        ax.set_ylabel("critical σ_w²")
        ax.set_title(f"{r['act']}, σ_b² = {r['sb2']:g}")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Finite-N shift of the edge of chaos (typical Jacobian norm)")
    fig.savefig(path, dpi=130)
    plt.close(fig)


def xi_fit(t, c, se, cstar):
    """ξ_c as /phase/xi_c computes it (src/observables/critical.c): -1/slope of a weighted
    fit of ln|c^t - c*| over the depths where |c^t - c*| exceeds 3 SE (NaN: < 3 such)."""
    d = np.abs(c - cstar)
    ok = np.isfinite(d) & (se > 0) & (d > 3 * se) & (d >= 1e-14)
    if ok.sum() < 3 or not np.isfinite(cstar):
        return np.nan
    w = (d[ok] / se[ok]) ** 2
    slope = np.polyfit(t[ok], np.log(d[ok]), 1, w=np.sqrt(w))[0]
    return -1 / slope if slope < 0 else np.nan


def xi_theory(run, mft=False):
    """(sigma_w2, sigma_b2, width) ξ_c of the 1/N theory's E c^t (MFT: the N = inf c^t) with
    the measurement's estimator: the same depths, the same weights (the measured errors)."""
    t = run.coord("depth").astype(float)
    cth = run.field("theory/c_mean", WBDN).values
    if mft:
        cth = np.broadcast_to(run.field("mft/c", WBDN[:3]).values[..., None], cth.shape)
    cstar = run.field("mft/c_star", WB).values
    out = np.full((cth.shape[0], cth.shape[1], cth.shape[3]), np.nan)
    for iw in range(cth.shape[0]):
        for ib in range(cth.shape[1]):
            for k in range(cth.shape[3]):
                se = stderr(run, "ensemble", "c", (iw, ib, slice(None), k))
                out[iw, ib, k] = xi_fit(t, cth[iw, ib, :, k], se, cstar[iw, ib])
    return out


def fig_xi(run, path):
    sw, sb, w = run.coord("sigma_w2"), run.coord("sigma_b2"), run.coord("width")
    xi_meas, xi_err = run.field("phase/xi_c", WBN).values, run.field("phase/xi_c_err", WBN).values
    xi_mft = run.field("mft/xi_c", WB).values
    crit = run.field("mft/critical_sigma_w2", ("sigma_b2",)).values
    xth = xi_theory(run)
    fig, axes = plt.subplots(1, len(sb), figsize=(5.4 * len(sb), 4.3), constrained_layout=True)
    for ax, (ib, b) in zip(np.atleast_1d(axes), enumerate(sb)):
        ax.plot(sw, xi_mft[:, ib], "k-", lw=2, label="MFT ξ_c = -1/ln χ_c")
        colors = plt.cm.viridis(np.linspace(0, 0.85, len(w)))
        for k, (N, col) in enumerate(zip(w, colors)):
            y, e = xi_meas[:, ib, k], xi_err[:, ib, k]
            ok = np.isfinite(y) & (y > 0) & (e < y)  # a fit with less than 1 sigma: not shown
            ax.errorbar(sw[ok] + 0.008 * (k - len(w) / 2), y[ok], yerr=e[ok], fmt="o", ms=4,
                        mfc="none", color=col, capsize=2, label=f"measured, N = {int(N)}")
            ax.plot(sw, xth[:, ib, k], "--", color=col, lw=1)
        ax.plot([], [], "--", color="0.4", lw=1, label="1/N theory E c^t, same fit")
        ax.axvline(crit[ib], color="k", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_ylim(3, 300)
        ax.set_xlabel("σ_w²")
        ax.set_ylabel("ξ_c [layers]")
        ax.set_title(f"tanh, σ_b² = {b:g}")
        ax.legend(fontsize=7.5)
    fig.suptitle("Correlation depth ξ_c: measured (fit of ln|c^t - c*| over depth) vs MFT "
                 "and vs the 1/N theory's E c^t fitted the same way")
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=".", help="directory with the three .h5 outputs")
    p.add_argument("--out", default=HERE, help="directory for the figures and results.md")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    ft = open_run(os.path.join(a.data, "variance_tanh.h5"))
    fr = open_run(os.path.join(a.data, "variance_relu.h5"))
    fc = open_run(os.path.join(a.data, "critical_tanh.h5"))
    tanh0 = Case(ft, 1.0, 0.0, "tanh (1, 0), Var q")
    relu = Case(fr, 2.0, 0.0, "relu (2, 0), Var q")
    tanhc = Case(ft, 1.7609546396, 0.05, "tanh (1.761, 0.05), Var logjac")
    tanhq = Case(ft, 1.7609546396, 0.05, "tanh (1.761, 0.05), Var q")
    fig_variance([(tanh0, "q", "tanh at σ_w²=1, σ_b²=0 (K* = 0 edge)"),
                  (relu, "relu", "relu at σ_w²=2, σ_b²=0 (edge)"),
                  (tanhc, "both", "tanh at the edge, σ_b²=0.05: Jacobian sector")],
                 os.path.join(a.out, "variance_slope.png"))
    fig_breakdown([(tanh0, "q", "tanh (1, 0): Var q/(E q)²"),
                   (relu, "q", "relu (2, 0): Var q/(E q)²"),
                   (tanhc, "J", "tanh (1.761, 0.05): Var ln|Ju|²")],
                  os.path.join(a.out, "breakdown.png"))
    rows = critical_rows(fc, "tanh") + critical_rows(fr, "relu")
    fig_critical(rows, os.path.join(a.out, "critical_line.png"))
    fig_xi(fc, os.path.join(a.out, "xi_c.png"))

    out = ["## Slopes of N Var / E^2 per layer, and where the leading order stops", "",
           tables([(tanh0, "q", 16), (relu, "q", 16), (tanhq, "q", 16), (tanhc, "J", 16)]), "",
           "## Finite-N critical sigma_w2 (measured lyapunov at the deepest depth crosses 0)",
           "", "| act | sb2 | N | measured | 1/N theory, same estimator | MFT + s/N | MFT |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        s = SHIFT.get((r["act"], round(float(r["sb2"]), 3)), np.nan)
        for k, N in enumerate(r["N"]):
            out.append(f"| {r['act']} | {r['sb2']:g} | {int(N)} | {r['meas'][k]:.4f} +- "
                       f"{r['err'][k]:.4f} | {r['theory'][k]:.4f} | {r['mft'] + s / N:.4f} | "
                       f"{r['mft']:.4f} |")
    out += ["", "## xi_c: measured, the 1/N theory's and the MFT's c^t with the same fit, MFT "
            "xi_c (tanh)", "",
            "| sb2 | sw2 | N | measured | 1/N theory, same fit | MFT c^t, same fit | MFT xi_c |",
            "|---|---|---|---|---|---|---|"]
    xth, xmf, sw = xi_theory(fc), xi_theory(fc, mft=True), fc.coord("sigma_w2")
    xi, xe = fc.field("phase/xi_c", WBN).values, fc.field("phase/xi_c_err", WBN).values
    xi_mft = fc.field("mft/xi_c", WB).values
    for ib, b in enumerate(fc.coord("sigma_b2")):
        for iw in range(0, len(sw), 2):
            for k, N in enumerate(fc.coord("width")):
                if N not in (32, 256):
                    continue
                out.append(f"| {b:g} | {sw[iw]:.2f} | {int(N)} | {xi[iw, ib, k]:.2f} +- "
                           f"{xe[iw, ib, k]:.2f} | {xth[iw, ib, k]:.2f} | {xmf[iw, ib, k]:.2f} | "
                           f"{xi_mft[iw, ib]:.2f} |")
    text = "\n".join(out) + "\n"
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(text)
    print(text)
    for name in ("variance_slope", "breakdown", "critical_line", "xi_c"):
        print(os.path.join(a.out, name + ".png"))


if __name__ == "__main__":
    main(sys.argv[1:])
