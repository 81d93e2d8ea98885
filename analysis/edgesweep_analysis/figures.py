"""One function per figure. Each takes an open `Run` and returns a matplotlib Figure, or
raises `Skip` with the reason when the file lacks the data the figure needs.

Conventions: the axes of every array are (sigma_w2, sigma_b2, depth, width) in that order
(io.py guarantees it); standard errors of means are sqrt(var / networks); labels carry the
units stored in the file's `units` attributes ("1" = dimensionless, not printed).
"""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, TwoSlopeNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

from .estimators import (kernel_var_dev, relative_variance,  # noqa: E402
                         relative_variance_se, stderr)
from .io import Skip  # noqa: E402

WBDN = ("sigma_w2", "sigma_b2", "depth", "width")
WB = ("sigma_w2", "sigma_b2")
MAX_PANELS = 4
STYLE = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 12, "legend.fontsize": 9.5,
    "figure.titlesize": 13, "xtick.labelsize": 10, "ytick.labelsize": 10,
    "axes.grid": False, "savefig.dpi": 150, "figure.dpi": 100,
}
SYMBOLS = {
    "sigma_w2": r"$\sigma_w^2$", "sigma_b2": r"$\sigma_b^2$", "depth": r"depth $t$",
    "width": r"width $N$", "lyapunov": r"Lyapunov exponent $\lambda$",
    "xi_c": r"correlation length $\xi_c$",
}
XI_MARKERS = "osD^v<>"


# ---------------------------------------------------------------- helpers

def label(run, name, units=None):
    """Axis label for coordinate or quantity NAME, with its units from the file."""
    if units is None:
        units = run.coords[name].units if name in run.coords else ""
    text = SYMBOLS.get(name) or (run.coords[name].long_name if name in run.coords else name)
    return f"{text} [{units}]" if units not in ("", "1") else text


def describe(run, widths=None):
    """'tanh feedforward, N = 32, 128' for titles."""
    n = run.coord("width") if widths is None else widths
    parts = [str(run.attr("activation", "?")), str(run.attr("architecture", ""))]
    return f"{' '.join(p for p in parts if p)}, N = {', '.join(str(int(x)) for x in n)}"


def spread(n, k):
    """Up to K indices spread evenly over range(N), first and last included."""
    return list(np.unique(np.round(np.linspace(0, n - 1, min(n, k))).astype(int)))


def largest_widths(run, k=MAX_PANELS):
    """Indices of the K largest widths (the width axis is sorted ascending)."""
    n = len(run.coord("width"))
    return list(range(max(0, n - k), n))


def width_colors(count):
    """COUNT colours from light-to-dark viridis: darker = wider network."""
    return plt.cm.viridis(np.linspace(0.85, 0.1, count)) if count > 1 else ["C0"]


def edges(x, log=False):
    """Cell edges around the sorted centres X (geometric midpoints when LOG)."""
    x = np.asarray(x, float)
    if len(x) == 1:
        return np.array([x[0] * 0.5, x[0] * 1.5]) if log else np.array([x[0] - 0.5, x[0] + 0.5])
    y = np.log(x) if log else x
    mid = 0.5 * (y[1:] + y[:-1])
    e = np.concatenate([[2 * y[0] - mid[0]], mid, [2 * y[-1] - mid[-1]]])
    return np.exp(e) if log else e


def mft_critical(run):
    """MFT critical sigma_w2 per sigma_b2 (NaN where none), or None when absent."""
    f = run.optional("mft/critical_sigma_w2", ("sigma_b2",))
    return None if f is None else f.values


def nearest_critical_index(run, ib):
    """sigma_w2 index nearest the MFT edge of chaos at sigma_b2 index IB."""
    sw = run.coord("sigma_w2")
    crit = mft_critical(run)
    if crit is not None and np.isfinite(crit[ib]):
        return int(np.argmin(np.abs(sw - crit[ib])))
    lam = run.optional("mft/lyapunov", WB)
    if lam is not None and np.any(np.isfinite(lam.values[:, ib])):
        return int(np.nanargmin(np.abs(lam.values[:, ib])))
    meas = run.optional("ensemble/lyapunov", WBDN)  # measured edge at the largest width
    if meas is not None and np.any(np.isfinite(meas.values[:, ib, -1, -1])):
        return int(np.nanargmin(np.abs(meas.values[:, ib, -1, -1])))
    return len(sw) // 2


def require_axis(run, axis, what):
    """Skip unless AXIS has at least two values."""
    if len(run.coord(axis)) < 2:
        raise Skip(f"{what} needs more than one {axis} value")


def deepest_lyapunov(run):
    """(lyapunov, stderr or None, depth) at the deepest recorded depth; Skip if none."""
    f = run.optional("ensemble/lyapunov", WBDN)
    depth = run.coord("depth")[-1]
    if f is not None:
        lam = f.values[:, :, -1, :]
        se = run.optional("ensemble/lyapunov_stderr", WBDN)
        se = None if se is None else se.values[:, :, -1, :]
    else:
        ph = run.optional("phase/lyapunov", ("sigma_w2", "sigma_b2", "width"))
        if ph is None:
            raise Skip("ensemble/lyapunov and phase/lyapunov are absent")
        pse = run.optional("phase/lyapunov_stderr", ("sigma_w2", "sigma_b2", "width"))
        lam, se = ph.values, None if pse is None else pse.values
    if not np.any(np.isfinite(lam)):
        raise Skip(f"no finite lyapunov at the deepest depth t = {depth:g} "
                   "(needs depth > 1 and finished points)")
    return lam, se, depth


def below_legend(fig, handles, ncol=None):
    """A frameless legend centred below the panels (saved with bbox_inches='tight')."""
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=ncol or len(handles), frameon=False, fontsize=STYLE["font.size"])


def panel_grid(count, width=4.6, height=3.9, **kw):
    """A figure with COUNT panels (1 x count, or 2 x 2 for four), axes as a flat list."""
    rows, cols = (2, 2) if count == 4 else (1, count)
    width = max(width, 6.0) if count == 1 else width
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6),
                             squeeze=False, constrained_layout=True, **kw)
    return fig, list(axes.ravel())


# ---------------------------------------------------------------- phase diagram

def phase_diagram(run):
    """Headline: measured lambda over (sigma_w2, sigma_b2) per width with critical lines."""
    require_axis(run, "sigma_w2", "the phase diagram")
    lam, se, depth = deepest_lyapunov(run)
    if len(run.coord("sigma_b2")) < 2:
        return _phase_diagram_1d(run, lam, se, depth)
    return _phase_diagram_2d(run, lam, depth)


def _lambda_norm(values):
    """Diverging norm centred at 0; each side scaled to its own 98th percentile so that both
    phases show full colour even when the ordered side is far deeper than the chaotic one."""
    v = values[np.isfinite(values)]
    neg = float(np.percentile(-v[v < 0], 98)) if np.any(v < 0) else 0.0
    pos = float(np.percentile(v[v > 0], 98)) if np.any(v > 0) else 0.0
    neg, pos = (neg or pos or 1.0), (pos or neg or 1.0)
    return TwoSlopeNorm(vcenter=0.0, vmin=-neg, vmax=pos)


def _two_sided_ticks(norm):
    """Nice ticks on each side of a TwoSlopeNorm (its halves have different scales)."""
    loc = MaxNLocator(nbins=4)
    neg = [v for v in loc.tick_values(norm.vmin, 0.0) if norm.vmin <= v < 0]
    pos = [v for v in loc.tick_values(0.0, norm.vmax) if 0 < v <= norm.vmax]
    return neg + [0.0] + pos


def _lambda_cmap():
    """RdBu_r with missing (pending / flagged) cells in grey."""
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("0.75")
    return cmap


def _phase_diagram_2d(run, lam, depth):
    """Heatmap panels (one per width) of lambda with MFT / finite-N / measured lambda = 0."""
    sw, sb, widths = run.coord("sigma_w2"), run.coord("sigma_b2"), run.coord("width")
    cols = largest_widths(run)
    norm = _lambda_norm(lam[:, :, cols])
    fig, axes = panel_grid(len(cols), sharex=True, sharey=True)
    contoured = False
    units = run.field("ensemble/lyapunov", WBDN).units if run.has("ensemble/lyapunov") \
        else "1/layer"
    for ax, k in zip(axes, cols):
        mesh = ax.pcolormesh(edges(sw), edges(sb), lam[:, :, k].T, cmap=_lambda_cmap(), norm=norm,
                             shading="flat", rasterized=True)
        _critical_lines(run, ax, k)
        contoured |= _zero_contour(ax, sw, sb, lam[:, :, k])
        _region_labels(ax)
        ax.set_title(f"N = {int(widths[k])}")
        ax.set_xlim(edges(sw)[[0, -1]])
        ax.set_ylim(edges(sb)[[0, -1]])
    for ax in axes:
        ax.set_xlabel(label(run, "sigma_w2"))
        ax.set_ylabel(label(run, "sigma_b2"))
        ax.label_outer()
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, pad=0.02)
    cb.set_ticks(_two_sided_ticks(norm))
    cb.set_label(label(run, "lyapunov", units) + f" at t = {depth:g}")
    below_legend(fig, _phase_legend(run, lam[:, :, cols], contoured))
    fig.suptitle(f"Order-to-chaos phase diagram: {describe(run, widths[cols])}\n"
                 f"measured Lyapunov exponent of the input-output Jacobian at depth t = {depth:g}")
    return fig


def _critical_lines(run, ax, k):
    """Draw the MFT critical line and the finite-N one for width index K on AX."""
    sb = run.coord("sigma_b2")
    crit = mft_critical(run)
    if crit is not None:
        ax.plot(crit, sb, "-", color="k", lw=2.2, marker="o", ms=3.5, zorder=4)
    fin = run.optional("phase/critical_sigma_w2", ("sigma_b2", "width"))
    if fin is not None:
        err = run.optional("phase/critical_sigma_w2_err", ("sigma_b2", "width"))
        ax.errorbar(fin.values[:, k], sb, xerr=None if err is None else err.values[:, k],
                    fmt="--", color="k", lw=1.6, capsize=2, zorder=4)


def _zero_contour(ax, sw, sb, lam):
    """Contour lambda = 0 of the measured exponent (needs a 2x2 grid and a sign change);
    return whether one was drawn."""
    if min(lam.shape) < 2 or not np.any(np.isfinite(lam)) or \
            not (np.nanmin(lam) < 0 < np.nanmax(lam)):
        return False
    ax.contour(sw, sb, np.ma.masked_invalid(lam.T), levels=[0.0], colors="#1a9641",
               linewidths=2.0, linestyles=":", zorder=3)
    return True


def _region_labels(ax):
    """'ordered' top-left (small sigma_w2, large sigma_b2), 'chaotic' bottom-right."""
    box = dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.75)
    ax.text(0.04, 0.96, "ordered\n" + r"$\lambda<0$", transform=ax.transAxes, ha="left",
            va="top", color="#2166ac", fontweight="bold", bbox=box, zorder=5)
    ax.text(0.96, 0.40, "chaotic\n" + r"$\lambda>0$", transform=ax.transAxes, ha="right",
            va="bottom", color="#b2182b", fontweight="bold", bbox=box, zorder=5)


def _phase_legend(run, lam, contoured):
    """Legend handles for what the phase diagram shows (LAM: the plotted lambda values)."""
    h = []
    crit = mft_critical(run)
    if crit is not None and np.any(np.isfinite(crit)):
        h.append(Line2D([], [], color="k", lw=2.2, marker="o", ms=3.5, label=r"MFT $\chi_1 = 1$"))
    fin = run.optional("phase/critical_sigma_w2", ("sigma_b2", "width"))
    if fin is not None and np.any(np.isfinite(fin.values)):
        h.append(Line2D([], [], color="k", lw=1.6, ls="--", label=r"finite $N$: $\lambda = 0$"))
    if contoured:
        h.append(Line2D([], [], color="#1a9641", lw=2.0, ls=":",
                        label=r"measured $\lambda = 0$"))
    if np.any(np.isnan(lam)):
        h.append(Patch(fc="0.75", label="no value (pending / flagged)"))
    return h


def _phase_diagram_1d(run, lam, se, depth):
    """One sigma_b2: lambda vs sigma_w2 per width, MFT lambda and the MFT critical point."""
    sw = run.coord("sigma_w2")
    fig, ax = plt.subplots(figsize=(7.2, 4.8), constrained_layout=True)
    _lambda_curves(run, ax, lam, se, 0)
    crit = mft_critical(run)
    if crit is not None and np.isfinite(crit[0]):
        ax.axvspan(sw[0], crit[0], color="#2166ac", alpha=0.07, lw=0)
        ax.axvspan(crit[0], sw[-1], color="#b2182b", alpha=0.07, lw=0)
    _region_labels(ax)
    ax.legend(loc="lower right", framealpha=0.9)
    ax.set_xlim(sw[0], sw[-1])
    fig.suptitle(f"Order-to-chaos transition: {describe(run)}\n"
                 f"Lyapunov exponent at depth t = {depth:g}, "
                 f"$\\sigma_b^2$ = {run.coord('sigma_b2')[0]:g}")
    return fig


def _lambda_curves(run, ax, lam, se, ib, value_in_label=True):
    """Measured lambda vs sigma_w2 (error bars, per width) plus MFT lambda at index IB."""
    sw, widths = run.coord("sigma_w2"), run.coord("width")
    for k, color in zip(range(len(widths)), width_colors(len(widths))):
        ax.errorbar(sw, lam[:, ib, k], yerr=None if se is None else se[:, ib, k], fmt="o-",
                    ms=4, lw=1.3, capsize=2.5, color=color, label=f"N = {int(widths[k])}")
    mft = run.optional("mft/lyapunov", WB)
    if mft is not None and np.any(np.isfinite(mft.values[:, ib])):
        ax.plot(sw, mft.values[:, ib], "-", color="k", lw=2,
                label=r"MFT $\lambda = \frac{1}{2}\ln\chi_1$")
    crit = mft_critical(run)
    if crit is not None and np.isfinite(crit[ib]):
        value = f" = {crit[ib]:.3g}" if value_in_label else r" ($\chi_1 = 1$)"
        ax.axvline(crit[ib], color="k", ls=":", lw=1.2,
                   label=r"MFT critical $\sigma_w^2$" + value)
    ax.axhline(0, color="0.5", lw=0.8)
    units = run.field("mft/lyapunov", WB).units if mft is not None else "1/layer"
    ax.set_xlabel(label(run, "sigma_w2"))
    ax.set_ylabel(label(run, "lyapunov", units))


# ---------------------------------------------------------------- lambda vs sigma_w2

def lyapunov_vs_sigma_w2(run):
    """lambda at the deepest depth vs sigma_w2, one curve per width, MFT line; per sigma_b2."""
    require_axis(run, "sigma_w2", "lyapunov_vs_sigma_w2")
    lam, se, depth = deepest_lyapunov(run)
    sb, widths = run.coord("sigma_b2"), run.coord("width")
    panels = spread(len(sb), MAX_PANELS)
    fig, axes = panel_grid(len(panels), sharey=True)
    fin = run.optional("phase/critical_sigma_w2", ("sigma_b2", "width"))
    for ax, ib in zip(axes, panels):
        _lambda_curves(run, ax, lam, se, ib, value_in_label=False)
        if fin is not None:
            for k, color in zip(range(len(widths)), width_colors(len(widths))):
                if np.isfinite(fin.values[ib, k]):
                    ax.axvline(fin.values[ib, k], color=color, ls="--", lw=1)
        ax.set_title(f"$\\sigma_b^2$ = {sb[ib]:g}")
        ax.label_outer()
    handles, _ = axes[0].get_legend_handles_labels()
    if fin is not None:
        handles.append(Line2D([], [], color="0.3", ls="--", lw=1,
                              label=r"finite-$N$ $\lambda = 0$ (colour = width)"))
    below_legend(fig, handles, ncol=min(len(handles), 4))
    fig.suptitle(f"Lyapunov exponent at depth t = {depth:g} vs MFT: {describe(run)}")
    return fig


# ---------------------------------------------------------------- trajectories

def _trajectory_columns(run, ib):
    """Three sigma_w2 indices: deep order, nearest the MFT edge, deep chaos (deduplicated)."""
    n = len(run.coord("sigma_w2"))
    mid = nearest_critical_index(run, ib)
    picks = [int(round(0.1 * (n - 1))), mid, int(round(0.9 * (n - 1)))]
    return sorted(set(picks)) if n > 2 else list(range(n))


def _trajectory_panel(run, ax, name, iw, ib):
    """One observable NAME ('c' or 'q') vs depth at (IW, IB): ensemble per width, MFT, theory."""
    t, widths = run.coord("depth"), run.coord("width")
    mean = run.field(f"ensemble/{name}_mean", WBDN).values
    theory = run.optional(f"theory/{name}_mean", WBDN)
    for k, color in zip(range(len(widths)), width_colors(len(widths))):
        m = mean[iw, ib, :, k]
        se = stderr(run, "ensemble", name, (iw, ib, slice(None), k))
        ax.plot(t, m, "-", color=color, lw=1.4, label=f"N = {int(widths[k])}")
        if se is not None:
            ax.fill_between(t, m - se, m + se, color=color, alpha=0.3, lw=0)
        if theory is not None:
            ax.plot(t, theory.values[iw, ib, :, k], "--", color=color, lw=1.1)
    mft = run.optional(f"mft/{name}", ("sigma_w2", "sigma_b2", "depth"))
    if mft is not None and np.any(np.isfinite(mft.values[iw, ib])):
        ax.plot(t, mft.values[iw, ib], ":", color="k", lw=2, label=r"MFT ($N=\infty$)")
    if theory is not None:
        ax.plot([], [], "--", color="0.4", label="MFT + 1/N theory")


def _phase_note(run, phase, iw, ib):
    """' (ordered)' etc. for a title, or '' when the MFT has no value there."""
    lam = run.optional("mft/lyapunov", WB)
    if phase is None or lam is None or not np.isfinite(lam.values[iw, ib]):
        return ""
    return f" ({run.code_names('mft/phase').get(int(phase.values[iw, ib]), '?')})"


def trajectories(run):
    """c^t and q^t vs depth for three sigma_w2 values at the first sigma_b2."""
    require_axis(run, "depth", "trajectories")
    for name in ("c", "q"):
        run.field(f"ensemble/{name}_mean", WBDN)
    ib, sw = 0, run.coord("sigma_w2")
    cols = _trajectory_columns(run, ib)
    phase = run.optional("mft/phase", WB)
    fig, axes = plt.subplots(2, len(cols), figsize=(4.4 * len(cols), 7.4), squeeze=False,
                             sharex=True, constrained_layout=True)
    for j, iw in enumerate(cols):
        _trajectory_panel(run, axes[0, j], "c", iw, ib)
        _trajectory_panel(run, axes[1, j], "q", iw, ib)
        where = _phase_note(run, phase, iw, ib)
        axes[0, j].set_title(f"$\\sigma_w^2$ = {sw[iw]:.3g}{where}")
        axes[1, j].set_xlabel(label(run, "depth"))
        q = run.field("ensemble/q_mean", WBDN).values[iw, ib]
        if np.nanmin(q) > 0 and np.nanmax(q) / np.nanmin(q) > 30:
            axes[1, j].set_yscale("log")
    axes[0, 0].set_ylabel(r"correlation $c^t$ (±1 SE)")
    axes[1, 0].set_ylabel(r"length $q^t = |h^t|^2/N$ (±1 SE)")
    axes[0, 0].legend(loc="best", framealpha=0.9)
    fig.suptitle(f"Signal propagation through depth: {describe(run)}, "
                 f"$\\sigma_b^2$ = {run.coord('sigma_b2')[ib]:g}")
    return fig


# ---------------------------------------------------------------- variance collapse

def variance_collapse(run):
    """Var(q)/E(q)^2 vs t/N per width near the MFT edge (first sigma_b2), and N x it vs t."""
    require_axis(run, "depth", "variance_collapse")
    ib = 0
    iw = nearest_critical_index(run, ib)
    rel = relative_variance(run, "ensemble")[iw, ib]
    if not np.any(np.isfinite(rel)):
        raise Skip("no finite q_var/q_mean^2 near the critical point")
    theory = run.has("theory/q_mean") and run.has("theory/q_var")
    th = relative_variance(run, "theory")[iw, ib] if theory else None
    rel_se = relative_variance_se(run)[iw, ib] if run.has("ensemble/networks") else None
    t, widths = run.coord("depth").astype(float), run.coord("width").astype(float)
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 4.6), constrained_layout=True)
    for k, color in zip(range(len(widths)), width_colors(len(widths))):
        err = None if rel_se is None else rel_se[:, k]
        lab = f"N = {int(widths[k])}"
        a0.errorbar(t / widths[k], rel[:, k], yerr=err, fmt="o-", ms=3, lw=1.2, capsize=0,
                    color=color, label=lab)
        a1.errorbar(t, widths[k] * rel[:, k], yerr=None if err is None else widths[k] * err,
                    fmt="o-", ms=3, lw=1.2, color=color, label=lab)
        if th is not None:
            a0.plot(t / widths[k], th[:, k], "--", color=color, lw=1)
            a1.plot(t, widths[k] * th[:, k], "--", color=color, lw=1)
    if th is not None:
        a1.plot([], [], "--", color="0.4", label="1/N theory")
    a0.set(xscale="log", yscale="log", xlabel=r"depth / width  $t/N$",
           ylabel=r"$\mathrm{Var}(q^t)\,/\,\mathbb{E}[q^t]^2$")
    a1.set(xlabel=label(run, "depth"), ylabel=r"$N\,\mathrm{Var}(q^t)\,/\,\mathbb{E}[q^t]^2$")
    a0.set_title("relative kernel fluctuation vs $t/N$")
    a1.set_title("rescaled by $N$: widths collapse at O(1/N)")
    a1.legend(loc="upper left", framealpha=0.9)
    sw, sb = run.coord("sigma_w2")[iw], run.coord("sigma_b2")[ib]
    crit = mft_critical(run)
    near = f" (MFT edge {crit[ib]:.3g})" if crit is not None and np.isfinite(crit[ib]) else ""
    fig.suptitle(f"Finite-width kernel fluctuations: {describe(run)}\n"
                 f"$\\sigma_w^2$ = {sw:.3g}{near}, $\\sigma_b^2$ = {sb:g}")
    return fig


# ---------------------------------------------------------------- gaussianity

def _eps_norm(eps):
    """Log colour scale for eps_K covering both class boundaries."""
    pos = eps[np.isfinite(eps) & (eps > 0)]
    lo = max(float(np.percentile(pos, 2)) if pos.size else 1e-3, 1e-4)
    hi = max(float(np.nanmax(pos)) if pos.size else 1.0, 0.5)
    return LogNorm(vmin=min(lo, 5e-3), vmax=hi)


def _tn_panel(ax, run, y, crit, ib, width):
    """Axes of one width's (sigma_w2, t/N) map: the MFT edge, a log t/N axis, labels."""
    if crit is not None and np.isfinite(crit[ib]):
        ax.axvline(crit[ib], color="#2b8cbe", lw=1.5, ls="-.")
    if y.min() > 0:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_title(f"N = {int(width)}")
    ax.set_xlabel(label(run, "sigma_w2"))
    ax.set_ylabel(r"depth / width  $t/N$")
    ax.label_outer()


def gaussianity(run):
    """eps_K = kurtosis/3 over (sigma_w2, t/N) per width at the first sigma_b2, with classes."""
    require_axis(run, "sigma_w2", "gaussianity")
    require_axis(run, "depth", "gaussianity")
    kurt = run.field("ensemble/kurtosis", WBDN)
    ib, cols = 0, largest_widths(run)
    eps = kurt.values[:, ib] / 3.0
    if not np.any(np.isfinite(eps)):
        raise Skip("ensemble/kurtosis has no finite values at the first sigma_b2")
    sw, t, widths = run.coord("sigma_w2"), run.coord("depth").astype(float), run.coord("width")
    norm = _eps_norm(eps[..., cols])
    cmap = plt.get_cmap("magma_r").copy()
    cmap.set_under(cmap(0.0))
    cmap.set_bad("0.75")
    fig, axes = panel_grid(len(cols), height=3.7, sharex=True, sharey=True)
    crit = mft_critical(run)
    levels = _eps_levels(run)
    for ax, k in zip(axes, cols):
        y = t / widths[k]
        z = np.where(np.isfinite(eps[:, :, k]), np.maximum(eps[:, :, k], norm.vmin * 0.5),
                     np.nan)
        mesh = ax.pcolormesh(edges(sw), edges(y, log=y.min() > 0), z.T, cmap=cmap, norm=norm,
                             shading="flat", rasterized=True)
        _eps_contours(ax, sw, y, eps[:, :, k], levels)
        _tn_panel(ax, run, y, crit, ib, widths[k])
    cb = fig.colorbar(mesh, ax=axes, extend="min", shrink=0.9, pad=0.02)
    cb.set_label(r"$\varepsilon_K$ = excess kurtosis / 3 = Var$G$/(E$G$)$^2$")
    below_legend(fig, _eps_legend(crit is not None and np.isfinite(crit[ib]), levels))
    fig.suptitle(f"Non-Gaussianity of pre-activations: {describe(run, widths[cols])}, "
                 f"$\\sigma_b^2$ = {run.coord('sigma_b2')[ib]:g}")
    return fig


def smooth(z, sigma=(0.7, 1.2)):
    """NaN-aware Gaussian smoothing (in index units) of the 2-D array Z."""
    ok = np.isfinite(z)
    num = gaussian_filter(np.where(ok, z, 0.0), sigma, mode="nearest")
    den = gaussian_filter(ok.astype(float), sigma, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, num / den, np.nan)


def _eps_levels(run):
    """The eps_K class bounds (Gaussian, perturbative) the file's /theory/regime was
    classified with (its attribute eps_K_bounds), or () when it does not say."""
    if not run.has("theory/regime"):
        return ()
    return tuple(float(v) for v in run.h5["theory/regime"].attrs.get("eps_K_bounds", ()))


def _eps_contours(ax, sw, y, eps, levels):
    """Class boundaries eps_K = LEVELS (Gaussian | perturbative | non-perturbative) of the
    smoothed map (the kurtosis of a modest ensemble is noisy; smoothing keeps the boundary
    readable)."""
    if min(eps.shape) < 2 or not np.any(np.isfinite(eps)):
        return
    eps = smooth(eps)
    z = np.ma.masked_invalid(eps.T)
    for level, style in zip(levels, ("-", "--")):
        if np.nanmin(eps) < level < np.nanmax(eps):
            ax.contour(sw, y, z, levels=[level], colors="#00a0a0", linewidths=1.8,
                       linestyles=style)


def _eps_legend(with_crit, levels):
    """Legend handles for the class boundaries LEVELS (doc/physics.md §7)."""
    labels = ("(smoothed): Gaussian | perturbative", ": perturbative | non-pert.")
    h = [Line2D([], [], color="#00a0a0", lw=1.8, ls=ls,
                label=rf"$\varepsilon_K$ = {level:g} {label}")
         for level, ls, label in zip(levels, ("-", "--"), labels)]
    if with_crit:
        h.append(Line2D([], [], color="#2b8cbe", lw=1.5, ls="-.", label=r"MFT $\chi_1 = 1$"))
    return h


# ---------------------------------------------------------------- Gaussian regime

DEV_LEVEL = 0.1


def gaussian_regime(run):
    """Where leading-order perturbation theory holds: the measured normalised kernel variance
    Var q/(E q)^2 against the theory's T/N-order prediction, dev = measured/theory - 1, over
    (sigma_w2, t/N), one panel per width, first sigma_b2; |dev| < 0.1 is outlined, and cells
    where dev is beyond 0.1 by more than 3 standard errors are crossed."""
    require_axis(run, "sigma_w2", "gaussian_regime")
    require_axis(run, "depth", "gaussian_regime")
    dev, err = kernel_var_dev(run)
    ib, cols = 0, largest_widths(run)
    if not np.any(np.isfinite(dev[:, ib])):
        raise Skip("kernel_var_dev has no finite values at the first sigma_b2")
    sw, t, widths = run.coord("sigma_w2"), run.coord("depth").astype(float), run.coord("width")
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-0.5, vmax=0.5)
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("0.75")
    fig, axes = panel_grid(len(cols), height=3.7, sharex=True, sharey=True)
    crit = mft_critical(run)
    for ax, k in zip(axes, cols):
        y = t / widths[k]
        d = dev[:, ib, :, k]
        mesh = ax.pcolormesh(edges(sw), edges(y, log=y.min() > 0), d.T, cmap=cmap, norm=norm,
                             shading="flat", rasterized=True)
        if min(d.shape) >= 2 and np.any(np.isfinite(d)):
            a = smooth(np.abs(d))
            if np.nanmin(a) < DEV_LEVEL < np.nanmax(a):
                ax.contour(sw, y, np.ma.masked_invalid(a.T), levels=[DEV_LEVEL], colors="k",
                           linewidths=1.6)
        if err is not None:
            e = err[:, ib, :, k]
            bad = np.isfinite(d) & (np.abs(d) - 3 * e > DEV_LEVEL)
            ii, jj = np.nonzero(bad)
            ax.plot(sw[ii], y[jj], "x", color="k", ms=4, mew=1)
        _tn_panel(ax, run, y, crit, ib, widths[k])
    cb = fig.colorbar(mesh, ax=axes, extend="both", shrink=0.9, pad=0.02)
    cb.set_label(r"$\frac{[\mathrm{Var}\,q/(\mathrm{E}q)^2]_{\rm measured}}"
                 r"{[\mathrm{Var}\,q/(\mathrm{E}q)^2]_{1/N\ \rm theory}} - 1$")
    h = [Line2D([], [], color="k", lw=1.6, label=f"|dev| = {DEV_LEVEL:g} (smoothed): "
                "leading 1/N order holds inside"),
         Line2D([], [], color="k", ls="none", marker="x", ms=5,
                label=f"|dev| > {DEV_LEVEL:g} by > 3 SE")]
    if crit is not None and np.isfinite(crit[ib]):
        h.append(Line2D([], [], color="#2b8cbe", lw=1.5, ls="-.", label=r"MFT $\chi_1 = 1$"))
    below_legend(fig, h)
    fig.suptitle(f"Gaussian-regime map, kernel variance vs 1/N theory: "
                 f"{describe(run, widths[cols])}, $\\sigma_b^2$ = {run.coord('sigma_b2')[ib]:g}")
    return fig


# ---------------------------------------------------------------- correlation length

def _positive(values):
    """VALUES with non-finite and non-positive entries as NaN (for a log axis)."""
    values = np.asarray(values, float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _xi_measured(run, ax, meas, ib, color):
    """Measured xi_c per width at sigma_b2 index IB: open markers with error bars."""
    sw, widths = run.coord("sigma_w2"), run.coord("width")
    err = run.optional("phase/xi_c_err", ("sigma_w2", "sigma_b2", "width"))
    for k in range(len(widths)):
        y = _positive(meas.values[:, ib, k])
        ax.errorbar(sw, y, yerr=None if err is None else np.where(np.isfinite(y),
                    err.values[:, ib, k], np.nan), fmt=XI_MARKERS[k % len(XI_MARKERS)],
                    color=color, ms=5, mfc="none", mew=1.3, capsize=2, lw=1)


def xi_c(run):
    """MFT xi_c vs sigma_w2 per sigma_b2, plus the measured /phase/xi_c per width if present."""
    require_axis(run, "sigma_w2", "xi_c")
    mft = run.optional("mft/xi_c", WB)
    meas = run.optional("phase/xi_c", ("sigma_w2", "sigma_b2", "width"))
    have_mft = mft is not None and np.any(np.isfinite(_positive(mft.values)))
    if meas is not None and not np.any(np.isfinite(_positive(meas.values))):
        meas = None
    if not have_mft and meas is None:
        raise Skip("neither mft/xi_c nor phase/xi_c has finite values")
    sw, sb, widths = run.coord("sigma_w2"), run.coord("sigma_b2"), run.coord("width")
    rows = spread(len(sb), MAX_PANELS if meas is not None else 6)
    crit = mft_critical(run)
    fig, ax = plt.subplots(figsize=(7.6, 5.0), constrained_layout=True)
    for ib, color in zip(rows, plt.cm.plasma(np.linspace(0.05, 0.8, len(rows)))):
        name = f"$\\sigma_b^2$ = {sb[ib]:g}"
        if have_mft:
            ax.plot(sw, _positive(mft.values[:, ib]), "-", color=color, lw=2, label="MFT, " + name)
        else:
            ax.plot([], [], "s", color=color, label=name)
        if crit is not None and np.isfinite(crit[ib]):
            ax.axvline(crit[ib], color=color, ls=":", lw=1)
        if meas is not None:
            _xi_measured(run, ax, meas, ib, color)
    for k in range(len(widths) if meas is not None else 0):
        ax.plot([], [], XI_MARKERS[k % len(XI_MARKERS)], color="0.3", mfc="none",
                label=f"measured, N = {int(widths[k])}")
    ax.set_yscale("log")
    ax.set_xlabel(label(run, "sigma_w2"))
    ax.set_ylabel(label(run, "xi_c", (mft or meas).units))
    ax.legend(loc="best", framealpha=0.9, ncol=2 if meas is not None else 1)
    fig.suptitle(f"Depth scale of correlation propagation: {describe(run)}\n"
                 r"$\xi_c = -1/\ln\chi_c$ diverges at the edge of chaos (dotted: MFT $\chi_1=1$)")
    return fig


# ---------------------------------------------------------------- registry

FIGURES = {
    "phase_diagram": phase_diagram,
    "trajectories": trajectories,
    "lyapunov_vs_sigma_w2": lyapunov_vs_sigma_w2,
    "variance_collapse": variance_collapse,
    "gaussianity": gaussianity,
    "gaussian_regime": gaussian_regime,
    "xi_c": xi_c,
}


def render(name, run):
    """Build figure NAME for RUN inside the package's style; raise Skip if it cannot.

    NaN cells (pending points, t = 1 of lambda) are expected: the numpy/matplotlib
    warnings they cause are silenced here only."""
    with plt.rc_context(STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*converting a masked element to nan")
        return FIGURES[name](run)


def save(fig, path):
    """Write FIG to PATH and release it."""
    with plt.rc_context(STYLE):
        fig.savefig(path, bbox_inches="tight", pad_inches=0.12)
    plt.close(fig)
