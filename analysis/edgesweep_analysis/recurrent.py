"""Recurrent vs feedforward: one figure from pairs of edgesweep files that differ only in
[network] architecture (same grid, seed, inputs, leak, noise).

    PYTHONPATH=analysis /usr/bin/python3 -m edgesweep_analysis.recurrent \\
        --pair "leak 1" rec.h5 ff.h5 [--pair LABEL REC.h5 FF.h5 ...] --out FIG.png

One row per pair: (a) the Lyapunov exponent at the deepest depth vs sigma_w2, per width,
recurrent (filled, solid) beside feedforward (open, dashed), with the MFT of each
architecture at the same finite depth, (logjac^T - logjac^1) / (2 (T - 1)) from /mft/logjac
(the two-time DMFT for recurrent, doc/physics.md 3.1); (b), (c) c^t vs depth at a
sigma_w2 near the edge and a chaotic one, the smallest and largest width, +-1 SE bands, with
/mft/c of each architecture. Exit 2 on bad arguments or mismatched files.
"""
import argparse
import sys
import warnings

import numpy as np
from matplotlib.lines import Line2D

from .estimators import lyapunov_from_logjac, nearest_index
from .figures import STYLE, below_legend, label, plt, save, width_colors
from .io import NotEdgesweep, Skip, open_run

WBDN = ("sigma_w2", "sigma_b2", "depth", "width")
WB = ("sigma_w2", "sigma_b2")
WBD = ("sigma_w2", "sigma_b2", "depth")
# The feedforward MFT is drawn grey and dashed on top, so that it stays visible where the
# two coincide (leak 1, noise 0).
MFT_COLOR = {"recurrent": "black", "feedforward": "0.5"}
ARCH_STYLE = {"recurrent": dict(marker="o", ls="-", mfc=None),
              "feedforward": dict(marker="s", ls="--", mfc="white")}


def _check_pair(rec, ff):
    """Raise Skip unless REC is recurrent, FF feedforward, on the same coordinates."""
    if rec.attr("architecture") != "recurrent" or ff.attr("architecture") != "feedforward":
        raise Skip(f"want a recurrent and a feedforward file, got {rec.attr('architecture')!r} "
                   f"and {ff.attr('architecture')!r}")
    for a in WBDN:
        if not np.array_equal(rec.coord(a), ff.coord(a)):
            raise Skip(f"the two files have different {a} axes")
    for k in ("activation", "leak", "noise", "q0", "c0"):
        if rec.attr(k) != ff.attr(k):
            raise Skip(f"the two files differ in {k}: {rec.attr(k)!r} vs {ff.attr(k)!r}")


def _mft_lyapunov(run, ib):
    """MFT Lyapunov exponent at the deepest recorded depth T, per sigma_w2, defined like the
    measured one: (logjac^T - logjac^1) / (2 (T - 1)) with /mft/logjac."""
    lj = run.field("mft/logjac", WBD).values[:, ib, :]
    d = run.coord("depth")
    if d[0] != 1 or d[-1] < 2:
        raise Skip("depth 1 and a deeper depth are needed for the Lyapunov exponent")
    return lyapunov_from_logjac(lj, d)


def _lyapunov_panel(ax, pair, ib, colors, widths):
    name, rec, ff = pair
    sw = rec.coord("sigma_w2")
    T = int(rec.coord("depth")[-1])
    for arch, run in (("recurrent", rec), ("feedforward", ff)):
        ly = run.field("ensemble/lyapunov", WBDN).values[:, ib, -1, :]
        se = run.optional("ensemble/lyapunov_stderr", WBDN)
        st = ARCH_STYLE[arch]
        for k, n in enumerate(widths):
            err = se.values[:, ib, -1, n] if se is not None else None
            ax.errorbar(sw, ly[:, n], yerr=err, color=colors[k], marker=st["marker"], ms=4.5,
                        ls=st["ls"], lw=1.1, capsize=2, mfc=st["mfc"] or colors[k])
        ax.plot(sw, _mft_lyapunov(run, ib), color=MFT_COLOR[arch], ls=st["ls"], lw=1.6, zorder=5)
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    ax.set_xlabel(label(rec, "sigma_w2"))
    ax.set_ylabel(rf"$\lambda$ at $t = {T}$")
    ax.set_title(f"{name}: Lyapunov exponent")


def _c_panel(ax, pair, ib, iw, colors, widths):
    name, rec, ff = pair
    d = rec.coord("depth")
    for arch, run in (("recurrent", rec), ("feedforward", ff)):
        cm = run.field("ensemble/c_mean", WBDN).values[iw, ib]
        cv = run.field("ensemble/c_var", WBDN).values[iw, ib]
        nets = run.optional("ensemble/networks", WBDN)
        st = ARCH_STYLE[arch]
        for k, n in enumerate(widths):
            M = nets.values[iw, ib, :, n] if nets is not None else np.nan
            se = np.sqrt(cv[:, n] / M)
            ax.plot(d, cm[:, n], color=colors[k], marker=st["marker"], ms=4, ls=st["ls"],
                    lw=1.1, mfc=st["mfc"] or colors[k])
            ax.fill_between(d, cm[:, n] - se, cm[:, n] + se, color=colors[k], alpha=0.15, lw=0)
        ax.plot(d, run.field("mft/c", WBD).values[iw, ib], color=MFT_COLOR[arch], ls=st["ls"],
                lw=1.6, zorder=5)
    ax.set_xscale("log", base=2)
    ax.set_xlabel(label(rec, "depth"))
    ax.set_ylabel(r"$c^t$")
    sw = rec.coord("sigma_w2")[iw]
    ax.set_title(rf"{name}: $c^t$ at $\sigma_w^2 = {sw:g}$")


def recurrent_vs_feedforward(pairs, edge=1.9, chaos=2.8):
    """The figure for PAIRS = [(label, rec_run, ff_run), ...] at the first sigma_b2;
    c^t panels at the sigma_w2 nearest EDGE and CHAOS."""
    for _, rec, ff in pairs:
        _check_pair(rec, ff)
    rows = len(pairs)
    fig, axes = plt.subplots(rows, 3, figsize=(14.5, 4.1 * rows), squeeze=False,
                             constrained_layout=True)
    for r, pair in enumerate(pairs):
        rec = pair[1]
        widths = list(range(len(rec.coord("width"))))
        if len(widths) > 3:
            widths = [0, len(widths) // 2, len(widths) - 1]
        colors = width_colors(len(widths))
        _lyapunov_panel(axes[r][0], pair, 0, colors, widths)
        sw = rec.coord("sigma_w2")
        for col, target in ((1, edge), (2, chaos)):
            _c_panel(axes[r][col], pair, 0, nearest_index(sw, target), colors, widths)
    # One legend: widths by colour, architectures by marker and line style.
    rec = pairs[0][1]
    widths = list(range(len(rec.coord("width"))))
    if len(widths) > 3:
        widths = [0, len(widths) // 2, len(widths) - 1]
    colors = width_colors(len(widths))
    handles = [Line2D([], [], color=colors[k], lw=2, label=f"N = {int(rec.coord('width')[n])}")
               for k, n in enumerate(widths)]
    handles += [Line2D([], [], color="0.3", marker="o", ls="-", label="recurrent (shared W)"),
                Line2D([], [], color="0.3", marker="s", ls="--", mfc="white",
                       label="feedforward (fresh W)"),
                Line2D([], [], color="black", ls="-", lw=1.6, label="MFT recurrent (DMFT)"),
                Line2D([], [], color="0.5", ls="--", lw=1.6, label="MFT feedforward")]
    below_legend(fig, handles, ncol=4)
    sb = rec.coord("sigma_b2")[0]
    fig.suptitle(f"{rec.attr('activation')}, recurrent vs feedforward at the same "
                 rf"($\sigma_w^2$, $\sigma_b^2 = {sb:g}$, N)")
    return fig


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m edgesweep_analysis.recurrent",
                                description="recurrent vs feedforward comparison figure")
    p.add_argument("--pair", nargs=3, action="append", required=True,
                   metavar=("LABEL", "REC.h5", "FF.h5"), help="a row: label, two files")
    p.add_argument("--out", required=True, metavar="FIG", help="output image (png, pdf, svg)")
    p.add_argument("--edge", type=float, default=1.9, help="sigma_w2 of the middle panels")
    p.add_argument("--chaos", type=float, default=2.8, help="sigma_w2 of the right panels")
    args = p.parse_args(argv)
    runs = []
    try:
        for lab, a, b in args.pair:
            runs.append((lab, open_run(a), open_run(b)))
    except NotEdgesweep as e:
        print(f"{p.prog}: not an edgesweep file: {e}", file=sys.stderr)
        return 2
    try:
        with plt.rc_context(STYLE), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fig = recurrent_vs_feedforward(runs, args.edge, args.chaos)
        save(fig, args.out)
    except Skip as e:
        print(f"{p.prog}: {e}", file=sys.stderr)
        return 2
    finally:
        for _, a, b in runs:
            a.close()
            b.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
