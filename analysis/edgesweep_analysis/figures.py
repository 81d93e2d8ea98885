"""One function per figure. Each takes an open `Run` and returns a matplotlib Figure, or
raises `Skip` with the reason when the file lacks the data the figure needs.

    fig = phase_diagram(run, width="single")     # 3.4 in wide; "double" = 7.0 in

Conventions: the axes of every array are (sigma_w2, sigma_b2, depth, width) in that order
(io.py guarantees it); standard errors of means are sqrt(var / networks); labels carry the
units stored in the file's `units` attributes ("1" = dimensionless, not printed).

Figures are sized for a paper: exactly the column width asked for, text at 8-9 pt, no titles
(what a title would say is in `fig.es_caption`, which `save` writes into the image's
metadata); multi-panel figures label their panels (a), (b), ... in the left title slot.
Legends sit below the panels, never over data. Colours are colour-blind safe: Okabe-Ito for
lines, RdBu_r for signed maps (centred at 0, symmetric limits), magma_r for eps_K. Error bars
on log axes are drawn only where the standard error is below half the value. Notes on how a
figure was drawn (e.g. an MFT curve interpolated because no edgesweep binary was found) are
in `fig.es_notes`.
"""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

from .estimators import (kernel_var_dev, relative_variance,  # noqa: E402
                         relative_variance_se, stderr)
from . import mftcurve  # noqa: E402
from .io import Skip  # noqa: E402

WBDN = ("sigma_w2", "sigma_b2", "depth", "width")
WB = ("sigma_w2", "sigma_b2")
MAX_PANELS = 4
SIZES = {"single": 3.4, "double": 7.0}
STYLE = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 8,
    "figure.titlesize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "axes.grid": False, "savefig.dpi": 300, "figure.dpi": 100, "lines.linewidth": 1.2,
    "lines.markersize": 3.5, "axes.linewidth": 0.7, "xtick.major.width": 0.7,
    "ytick.major.width": 0.7, "legend.handlelength": 2.2, "legend.columnspacing": 1.4,
    "hatch.color": "0.55", "hatch.linewidth": 0.6,
    "pdf.fonttype": 42, "svg.fonttype": "none",
}
# Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
             "#000000")
DIVERGING = "RdBu_r"
SEQUENTIAL = "magma_r"
SYMBOLS = {
    "sigma_w2": r"$\sigma_w^2$", "sigma_b2": r"$\sigma_b^2$", "depth": r"depth $t$",
    "width": r"width $N$", "lyapunov": r"$\lambda$",
    "xi_c": r"correlation depth $\xi_c$",
}
XI_MARKERS = "osD^v<>"
PANEL = "abcdefghijklmnop"
MISSING = Patch(fc="white", ec="0.55", hatch="////", lw=0.6, label="no value (pending / flagged)")
MISSING_GREY = Patch(fc="0.8", label="no value (pending / flagged)")


# ---------------------------------------------------------------- helpers

def label(run, name, units=None):
    """Axis label for coordinate or quantity NAME, with its units from the file."""
    if units is None:
        units = run.coords[name].units if name in run.coords else ""
    text = SYMBOLS.get(name) or (run.coords[name].long_name if name in run.coords else name)
    return f"{text} [{units}]" if units not in ("", "1") else text


def describe(run, widths=None):
    """'tanh feedforward, N = 32, 128' for captions."""
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
    """COUNT Okabe-Ito colours, one per width (cycled beyond eight)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(count)]


def fig_width(width):
    """Figure width in inches for 'single', 'double' or a number."""
    if isinstance(width, str):
        if width not in SIZES:
            raise ValueError(f"width {width!r}: one of {', '.join(SIZES)} or inches")
        return SIZES[width]
    return float(width)


def edges(x, log=False, floor=None):
    """Cell edges around the sorted centres X (geometric midpoints when LOG); no edge below
    FLOOR (a variance axis starts at 0, not half a cell below it)."""
    x = np.asarray(x, float)
    if len(x) == 1:
        e = np.array([x[0] * 0.5, x[0] * 1.5]) if log else np.array([x[0] - 0.5, x[0] + 0.5])
    else:
        y = np.log(x) if log else x
        mid = 0.5 * (y[1:] + y[:-1])
        e = np.concatenate([[2 * y[0] - mid[0]], mid, [2 * y[-1] - mid[-1]]])
        e = np.exp(e) if log else e
    if floor is not None:
        e = np.maximum(e, floor)
        if e[1] <= e[0]:
            e[0] = floor
    return e


def padded(x, frac=0.03):
    """(lo, hi) of X widened by FRAC of its span, so that markers at the ends show whole."""
    pad = frac * (float(np.max(x)) - float(np.min(x)))
    return float(np.min(x)) - pad, float(np.max(x)) + pad


def informative(y, err, limit=0.5):
    """ERR where it is finite and below LIMIT x |Y| (a bar on a log axis then spans at most
    (1 + LIMIT)/(1 - LIMIT) = a factor 3, half a decade), NaN elsewhere; and the mask of the
    points whose error is larger than that."""
    y, err = np.asarray(y, float), np.asarray(err, float)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(err) & np.isfinite(y) & (err < limit * np.abs(y))
        wide = np.isfinite(y) & np.isfinite(err) & ~good
    return np.where(good, err, np.nan), wide


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


# ---------------------------------------------------------------- layout

class Layout:
    """A figure exactly WIDTH wide: ROWS x COLS panels of height ASPECT x panel width, an
    optional colour bar on the right, and a strip below the panels sized to the legend (the
    layout engine works above the strip, so the legend never overlaps a panel)."""

    def __init__(self, width, rows, cols, aspect, cbar=False, sharex=False, sharey=False):
        self.w = fig_width(width)
        # Room for tick labels and axis labels (once per column or row when they are shared),
        # panel labels and the colour bar; constrained layout then fits the panels into it.
        ylabels = 1 if sharey else cols
        pw = (self.w - 0.55 * ylabels - (0.85 if cbar else 0.0) - 0.1 * (cols - 1)) / cols
        xlabels = 1 if sharex else rows
        self.h = rows * (pw * aspect + 0.22) + 0.42 * xlabels + 0.08 * (rows - 1) + 0.1
        self.fig = plt.figure(figsize=(self.w, self.h), layout="constrained")
        self.fig.get_layout_engine().set(w_pad=0.03, h_pad=0.03, hspace=0.02, wspace=0.02)
        gs = self.fig.add_gridspec(rows, cols)
        self.axes = []
        for r in range(rows):
            for c in range(cols):
                share = dict(sharex=self.axes[0] if sharex and self.axes else None,
                             sharey=self.axes[0] if sharey and self.axes else None)
                self.axes.append(self.fig.add_subplot(gs[r, c], **share))
        self.fig.es_notes = []
        self.fig.es_caption = ""

    def legend(self, handles, ncol=None):
        """Put HANDLES below the panels in as few rows as fit the width."""
        if not handles:
            return
        renderer = self.fig.canvas.get_renderer()
        ncol = ncol or len(handles)
        while True:
            leg = self.fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False,
                                  bbox_to_anchor=(0.5, 0.0), borderaxespad=0.2)
            box = leg.get_window_extent(renderer)
            if box.width / self.fig.dpi <= self.w - 0.1 or ncol == 1:
                break
            leg.remove()
            ncol -= 1
        lh = box.height / self.fig.dpi + 0.05
        self.fig.set_size_inches(self.w, self.h + lh)
        self.fig.get_layout_engine().set(rect=(0, lh / (self.h + lh), 1, 1 - lh / (self.h + lh)))

    def trim(self, used):
        """Remove the panels beyond the first USED; label only the outer ones."""
        for ax in self.axes[used:]:
            ax.remove()
        self.axes = self.axes[:used]
        outer_labels(self)

    def done(self, caption):
        """Store CAPTION (what a title would have said); return the figure."""
        self.fig.es_caption = caption
        return self.fig


def outer_labels(lay):
    """Tick labels and axis labels only on the outer panels of LAY's grid (the legend row is
    not a panel row, so matplotlib's label_outer cannot tell)."""
    for ax in lay.axes:
        ss = ax.get_subplotspec()
        below = [b for b in lay.axes if b is not ax and b.get_subplotspec().colspan == ss.colspan
                 and b.get_subplotspec().rowspan.start == ss.rowspan.stop]
        if below and ax.get_shared_x_axes().joined(ax, below[0]):
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
        if ss.colspan.start > 0 and ax.get_shared_y_axes().joined(ax, lay.axes[0]):
            ax.set_ylabel("")
            ax.tick_params(labelleft=False)


def panel_label(ax, i, text=""):
    """'(a) TEXT' in the left title slot of panel I."""
    ax.set_title(f"({PANEL[i]}) {text}".rstrip(), loc="left", fontsize=STYLE["axes.titlesize"])


def grid_shape(count, width):
    """(rows, cols) for COUNT panels at WIDTH: a column at single width, a row at double."""
    if count <= 1:
        return 1, 1
    if fig_width(width) < 5:
        return (count, 1) if count <= 2 else ((count + 1) // 2, 2)
    return (1, count) if count <= 3 else ((count + 1) // 2, 2)


def symmetric_norm(values, q=98.0):
    """Normalize(-v, v): the same colour for the same |value| on either side of 0. v is a
    round number at or above the geometric mean of the two sides' Q-th percentiles of |VALUES|
    (one side's when the other is empty), so that both signs show gradation even when one
    side reaches much further; values beyond +-v saturate and the colour bar's triangles
    say so."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    sides = [float(np.percentile(np.abs(s), q)) for s in (v[v < 0], v[v > 0]) if s.size]
    top = float(np.exp(np.mean(np.log(np.maximum(sides, 1e-300))))) if sides else 1.0
    top = top if top > 0 else 1.0
    nice = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, top)
    v = float(nice[nice >= top * (1 - 1e-12)][0])
    return Normalize(vmin=-v, vmax=v)


def extend_of(values, norm):
    """Colour-bar extension ('neither', 'min', 'max', 'both') for VALUES beyond NORM."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    lo, hi = (v.size and v.min() < norm.vmin), (v.size and v.max() > norm.vmax)
    return {(0, 0): "neither", (1, 0): "min", (0, 1): "max", (1, 1): "both"}[(bool(lo), bool(hi))]


def diverging_cmap(bad=(0, 0, 0, 0)):
    """The signed map's colours; missing cells BAD (default transparent, over a hatched
    background)."""
    cmap = plt.get_cmap(DIVERGING).copy()
    cmap.set_bad(bad)
    return cmap


def hatch_missing(ax):
    """Hatch the axes background so that NaN cells of a map read as 'no value'."""
    ax.patch.set_facecolor("white")
    ax.patch.set_hatch("////")
    ax.patch.set_edgecolor("0.55")


# ---------------------------------------------------------------- phase diagram

def phase_diagram(run, width="double", edgesweep=None):
    """Headline: measured lambda over (sigma_w2, sigma_b2) per width with critical lines."""
    require_axis(run, "sigma_w2", "the phase diagram")
    lam, se, depth = deepest_lyapunov(run)
    if len(run.coord("sigma_b2")) < 2:
        return _phase_diagram_1d(run, lam, se, depth, width, edgesweep)
    return _phase_diagram_2d(run, lam, depth, width, edgesweep)


def _phase_diagram_2d(run, lam, depth, width, edgesweep):
    """Heatmap panels (one per width) of lambda with the MFT and measured lambda = 0 lines."""
    sw, sb, widths = run.coord("sigma_w2"), run.coord("sigma_b2"), run.coord("width")
    cols = largest_widths(run)
    norm = symmetric_norm(lam[:, :, cols])
    rows, ncols = grid_shape(len(cols), width)
    lay = Layout(width, rows, ncols, 0.8, cbar=True, sharex=True, sharey=True)
    units = run.field("ensemble/lyapunov", WBDN).units if run.has("ensemble/lyapunov") \
        else "1/layer"
    xe, ye = edges(sw, floor=0.0), edges(sb, floor=0.0)
    curve = mftcurve.critical_curve(run, edgesweep, span=(ye[0], ye[-1]))
    if curve is not None and curve[2]:
        lay.fig.es_notes.append(curve[2])
    kinds = set()
    for i, (ax, k) in enumerate(zip(lay.axes, cols)):
        hatch_missing(ax)
        mesh = ax.pcolormesh(xe, ye, lam[:, :, k].T, cmap=diverging_cmap(), norm=norm,
                             shading="flat", rasterized=True)
        kinds |= _critical_lines(run, ax, k, curve, lam[:, :, k])
        if len(cols) > 1:
            panel_label(ax, i, f"N = {int(widths[k])}")
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
        ax.set_xlabel(label(run, "sigma_w2"))
        ax.set_ylabel(label(run, "sigma_b2"))
    lay.trim(len(cols))
    cb = lay.fig.colorbar(mesh, ax=lay.axes[:len(cols)], extend=extend_of(lam[:, :, cols], norm),
                          shrink=0.9 if rows > 1 else 1.0, pad=0.02, aspect=25)
    cb.locator = MaxNLocator(nbins=5, symmetric=True)
    cb.update_ticks()
    cb.set_label(rf"$\lambda$ at $t = {depth:g}$" + (f" [{units}]" if units not in ("", "1")
                                                       else ""))
    high = 1.07 if cb.extend in ("max", "both") else 1.02
    cb.ax.text(0.5, high, "chaotic", transform=cb.ax.transAxes, ha="center", va="bottom",
               fontsize=STYLE["font.size"])
    low = -0.07 if cb.extend in ("min", "both") else -0.02
    cb.ax.text(0.5, low, "ordered", transform=cb.ax.transAxes, ha="center", va="top",
               fontsize=STYLE["font.size"])
    lay.legend(_phase_legend(kinds, lam[:, :, cols]))
    return lay.done(
        f"Order-to-chaos phase diagram, {describe(run, widths[cols])}: measured Lyapunov "
        f"exponent of the input-output Jacobian at depth t = {depth:g} (diverging scale "
        f"symmetric about 0, +-{norm.vmax:g}); MFT edge of chaos chi_1 = 1 and the measured "
        "lambda = 0 line at each width.")


def _critical_lines(run, ax, k, curve, lam):
    """The smooth MFT critical line and the measured lambda = 0 line of width index K: the
    file's /phase/critical_sigma_w2 (with its error) when present, else the contour of LAM.
    Returns the kinds drawn, for the legend."""
    kinds = set()
    if curve is not None and np.any(np.isfinite(curve[1])):
        ax.plot(curve[1], curve[0], "-", color="k", lw=1.5, zorder=4)
        kinds.add("mft")
        if curve[2]:
            kinds.add("mft points")
            crit = mft_critical(run)
            ax.plot(crit, run.coord("sigma_b2"), "o", color="k", ms=2.5, zorder=4)
    fin = run.optional("phase/critical_sigma_w2", ("sigma_b2", "width"))
    if fin is not None and np.any(np.isfinite(fin.values[:, k])):
        err = run.optional("phase/critical_sigma_w2_err", ("sigma_b2", "width"))
        x = fin.values[:, k]
        xerr = None if err is None else informative(x, err.values[:, k])[0]
        ax.errorbar(x, run.coord("sigma_b2"), xerr=xerr, fmt="--o", color="k", lw=0.9, ms=3.2,
                    mfc="white", mew=0.9, capsize=1.5, elinewidth=0.9, zorder=5, clip_on=False)
        kinds.add("finite")
    elif _zero_contour(ax, run.coord("sigma_w2"), run.coord("sigma_b2"), lam):
        kinds.add("contour")
    return kinds


def _zero_contour(ax, sw, sb, lam):
    """Contour lambda = 0 of the measured exponent (needs a 2x2 grid and a sign change);
    return whether one was drawn."""
    if min(lam.shape) < 2 or not np.any(np.isfinite(lam)) or \
            not (np.nanmin(lam) < 0 < np.nanmax(lam)):
        return False
    ax.contour(sw, sb, np.ma.masked_invalid(lam.T), levels=[0.0], colors="k",
               linewidths=1.0, linestyles="--", zorder=3)
    return True


def _phase_legend(kinds, lam):
    """Legend handles for what the phase diagram shows (LAM: the plotted lambda values)."""
    h = []
    if "mft" in kinds:
        h.append(Line2D([], [], color="k", lw=1.5, marker="o" if "mft points" in kinds else "",
                        ms=2.5, label=r"MFT edge $\chi_1 = 1$ ($N = \infty$)"))
    if "finite" in kinds:
        h.append(Line2D([], [], color="k", lw=0.9, ls="--", marker="o", ms=3.2, mfc="white",
                        label=r"measured $\lambda = 0$ (±1 SE)"))
    if "contour" in kinds:
        h.append(Line2D([], [], color="k", lw=1.0, ls="--", label=r"measured $\lambda = 0$"))
    if np.any(np.isnan(lam)):
        h.append(MISSING)
    return h


def _phase_diagram_1d(run, lam, se, depth, width, edgesweep):
    """One sigma_b2: lambda vs sigma_w2 per width, MFT lambda and the MFT critical point."""
    sw = run.coord("sigma_w2")
    lay = Layout(width, 1, 1, 0.62)
    ax = lay.axes[0]
    note = _lambda_curves(run, ax, lam, se, 0, edgesweep)
    if note:
        lay.fig.es_notes.append(note)
    crit = mft_critical(run)
    if crit is not None and np.isfinite(crit[0]):
        ax.axvspan(padded(sw)[0], crit[0], color=OKABE_ITO[0], alpha=0.08, lw=0)
        ax.axvspan(crit[0], padded(sw)[1], color=OKABE_ITO[1], alpha=0.08, lw=0)
        ax.text(0.02, 0.03, "ordered", transform=ax.transAxes, ha="left", va="bottom")
        ax.text(0.98, 0.03, "chaotic", transform=ax.transAxes, ha="right", va="bottom")
    ax.set_xlim(*padded(sw))
    lay.legend(_dedupe(ax.get_legend_handles_labels()[0]))
    return lay.done(f"Order-to-chaos transition, {describe(run)}: Lyapunov exponent at depth "
                    f"t = {depth:g}, sigma_b2 = {run.coord('sigma_b2')[0]:g}.")


def _dedupe(handles):
    """HANDLES with repeated labels dropped (first kept)."""
    seen, out = set(), []
    for h in handles:
        if h.get_label() not in seen:
            seen.add(h.get_label())
            out.append(h)
    return out


def _lambda_curves(run, ax, lam, se, ib, edgesweep=None):
    """Measured lambda vs sigma_w2 (error bars, per width) plus MFT lambda at index IB (a
    dense curve when the binary is at hand); returns a note on how the MFT was drawn."""
    sw, widths = run.coord("sigma_w2"), run.coord("width")
    for k, color in zip(range(len(widths)), width_colors(len(widths))):
        ax.errorbar(sw, lam[:, ib, k], yerr=None if se is None else se[:, ib, k],
                    fmt=XI_MARKERS[k % len(XI_MARKERS)] + "-", ms=3, lw=1.0, capsize=1.5,
                    color=color, label=f"N = {int(widths[k])}")
    mft = run.optional("mft/lyapunov", WB)
    crit = mft_critical(run)
    note = ""
    if mft is not None and np.any(np.isfinite(mft.values[:, ib])):
        c = crit[ib] if crit is not None else np.nan
        x, y, note = mftcurve.mft_curve(run, ib, "lyapunov", c, edgesweep)
        ax.plot(x, y, "-", color="k", lw=1.5, label=r"MFT $\lambda = \frac{1}{2}\ln\chi_1$")
    if crit is not None and np.isfinite(crit[ib]):
        ax.axvline(crit[ib], color="k", ls=":", lw=1.0, label=r"MFT critical $\sigma_w^2$")
    ax.axhline(0, color="0.6", lw=0.6, zorder=0)
    units = run.field("mft/lyapunov", WB).units if mft is not None else "1/layer"
    ax.set_xlabel(label(run, "sigma_w2"))
    ax.set_ylabel(label(run, "lyapunov", units))
    return note


# ---------------------------------------------------------------- lambda vs sigma_w2

def lyapunov_vs_sigma_w2(run, width="double", edgesweep=None):
    """lambda at the deepest depth vs sigma_w2, one curve per width, MFT line; per sigma_b2."""
    require_axis(run, "sigma_w2", "lyapunov_vs_sigma_w2")
    lam, se, depth = deepest_lyapunov(run)
    sb, widths = run.coord("sigma_b2"), run.coord("width")
    panels = spread(len(sb), MAX_PANELS)
    rows, cols = grid_shape(len(panels), width)
    if fig_width(width) >= 5 and len(panels) == 3:
        rows, cols = 1, 3
    lay = Layout(width, rows, cols, 0.8, sharex=True, sharey=True)
    fin = run.optional("phase/critical_sigma_w2", ("sigma_b2", "width"))
    colors = width_colors(len(widths))
    for i, (ax, ib) in enumerate(zip(lay.axes, panels)):
        note = _lambda_curves(run, ax, lam, se, ib, edgesweep)
        if note and note not in lay.fig.es_notes:
            lay.fig.es_notes.append(note)
        if fin is not None:
            for k, color in enumerate(colors):
                if np.isfinite(fin.values[ib, k]):
                    ax.axvline(fin.values[ib, k], color=color, ls="--", lw=0.9)
        if len(panels) > 1:
            panel_label(ax, i, f"$\\sigma_b^2$ = {sb[ib]:g}")
    lay.trim(len(panels))
    handles = _dedupe(lay.axes[0].get_legend_handles_labels()[0])
    if fin is not None:
        handles.append(Line2D([], [], color="0.3", ls="--", lw=0.9,
                              label=r"measured $\lambda = 0$ (colour = width)"))
    lay.legend(handles)
    return lay.done(f"Lyapunov exponent at depth t = {depth:g} against mean-field theory, "
                    f"{describe(run)}; one panel per sigma_b2.")


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
        ax.plot(t, m, "-", color=color, lw=1.0, label=f"N = {int(widths[k])}")
        if se is not None:
            ax.fill_between(t, m - se, m + se, color=color, alpha=0.25, lw=0)
        if theory is not None:
            ax.plot(t, theory.values[iw, ib, :, k], "--", color=color, lw=0.9)
    mft = run.optional(f"mft/{name}", ("sigma_w2", "sigma_b2", "depth"))
    if mft is not None and np.any(np.isfinite(mft.values[iw, ib])):
        ax.plot(t, mft.values[iw, ib], ":", color="k", lw=1.5, label=r"MFT ($N=\infty$)")
    if theory is not None:
        ax.plot([], [], "--", color="0.4", lw=0.9, label="MFT + 1/N theory")


def _phase_note(run, phase, iw, ib):
    """', ordered' etc. for a panel label, or '' when the MFT has no value there."""
    lam = run.optional("mft/lyapunov", WB)
    if phase is None or lam is None or not np.isfinite(lam.values[iw, ib]):
        return ""
    name = run.code_names('mft/phase').get(int(phase.values[iw, ib]), '?')
    return f", {name.replace('_', ' ')}"


def trajectories(run, width="double", edgesweep=None):
    """c^t and q^t vs depth for three sigma_w2 values at the first sigma_b2."""
    require_axis(run, "depth", "trajectories")
    for name in ("c", "q"):
        run.field(f"ensemble/{name}_mean", WBDN)
    ib, sw = 0, run.coord("sigma_w2")
    cols = _trajectory_columns(run, ib)
    phase = run.optional("mft/phase", WB)
    single = fig_width(width) < 5
    # Double: observables in rows, sigma_w2 in columns; single: the transpose.
    rows, ncols = (len(cols), 2) if single else (2, len(cols))
    lay = Layout(width, rows, ncols, 0.75, sharex=True)
    for j, iw in enumerate(cols):
        for r, name in enumerate(("c", "q")):
            i = j * 2 + r if single else r * ncols + j
            ax = lay.axes[i]
            _trajectory_panel(run, ax, name, iw, ib)
            if name == "q":
                q = run.field("ensemble/q_mean", WBDN).values[iw, ib]
                if np.nanmin(q) > 0 and np.nanmax(q) / np.nanmin(q) > 30:
                    ax.set_yscale("log")
            if single or j == 0:
                ax.set_ylabel(r"$c^t$" if name == "c" else r"$q^t = |h^t|^2/N$")
            ax.set_xlabel(label(run, "depth"))
            where = f"$\\sigma_w^2$ = {sw[iw]:.3g}{_phase_note(run, phase, iw, ib)}"
            panel_label(ax, i, "" if single and name == "q" else where)
    lay.trim(2 * len(cols))
    lay.legend(_dedupe(lay.axes[0].get_legend_handles_labels()[0]))
    return lay.done(f"Signal propagation through depth, {describe(run)}, sigma_b2 = "
                    f"{run.coord('sigma_b2')[ib]:g}: correlation c^t and length q^t with "
                    "+-1 SE bands, MFT (dotted) and the 1/N theory (dashed).")


# ---------------------------------------------------------------- variance collapse

def variance_collapse(run, width="double", edgesweep=None):
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
    rows, cols = grid_shape(2, width)
    lay = Layout(width, rows, cols, 0.75)
    a0, a1 = lay.axes
    for k, color in zip(range(len(widths)), width_colors(len(widths))):
        err = None if rel_se is None else rel_se[:, k]
        lab, mk = f"N = {int(widths[k])}", XI_MARKERS[k % len(XI_MARKERS)]
        e0 = None if err is None else informative(rel[:, k], err)[0]
        a0.errorbar(t / widths[k], rel[:, k], yerr=e0, fmt=mk + "-", ms=2.5, lw=0.9,
                    elinewidth=0.7, color=color, label=lab)
        a1.errorbar(t, widths[k] * rel[:, k], yerr=None if err is None else widths[k] * err,
                    fmt=mk + "-", ms=2.5, lw=0.9, elinewidth=0.7, color=color, label=lab)
        if th is not None:
            a0.plot(t / widths[k], th[:, k], "--", color=color, lw=0.9)
            a1.plot(t, widths[k] * th[:, k], "--", color=color, lw=0.9)
    if th is not None:
        a1.plot([], [], "--", color="0.4", lw=0.9, label="1/N theory")
    a0.set(xscale="log", yscale="log", xlabel=r"depth / width  $t/N$",
           ylabel=r"$\mathrm{Var}(q^t)\,/\,\mathbb{E}[q^t]^2$")
    a1.set(xlabel=label(run, "depth"), ylabel=r"$N\,\mathrm{Var}(q^t)\,/\,\mathbb{E}[q^t]^2$")
    panel_label(a0, 0)
    panel_label(a1, 1)
    lay.legend(_dedupe(a1.get_legend_handles_labels()[0]))
    sw, sb = run.coord("sigma_w2")[iw], run.coord("sigma_b2")[ib]
    crit = mft_critical(run)
    near = f" (MFT edge {crit[ib]:.3g})" if crit is not None and np.isfinite(crit[ib]) else ""
    return lay.done(f"Finite-width kernel fluctuations, {describe(run)}, sigma_w2 = {sw:.3g}"
                    f"{near}, sigma_b2 = {sb:g}: (a) Var q/(E q)^2 against t/N, (b) rescaled "
                    "by N, where the widths collapse at O(1/N).")


# ---------------------------------------------------------------- gaussianity

def _eps_norm(eps):
    """Log colour scale for eps_K covering both class boundaries."""
    pos = eps[np.isfinite(eps) & (eps > 0)]
    lo = max(float(np.percentile(pos, 2)) if pos.size else 1e-3, 1e-4)
    hi = max(float(np.nanmax(pos)) if pos.size else 1.0, 0.5)
    return LogNorm(vmin=min(lo, 5e-3), vmax=hi)


def _tn_panel(ax, run, y, crit, ib, i, width, many):
    """Axes of one width's (sigma_w2, t/N) map: the MFT edge, a log t/N axis, labels."""
    if crit is not None and np.isfinite(crit[ib]):
        ax.axvline(crit[ib], color=OKABE_ITO[5], lw=1.2, ls="-.")
    if y.min() > 0:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    if many:
        panel_label(ax, i, f"N = {int(width)}")
    ax.set_xlabel(label(run, "sigma_w2"))
    ax.set_ylabel(r"depth / width  $t/N$")


def gaussianity(run, width="double", edgesweep=None):
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
    cmap = plt.get_cmap(SEQUENTIAL).copy()
    cmap.set_under(cmap(0.0))
    cmap.set_bad("0.8")
    rows, ncols = grid_shape(len(cols), width)
    lay = Layout(width, rows, ncols, 0.8, cbar=True, sharex=True, sharey=True)
    crit = mft_critical(run)
    levels = _eps_levels(run)
    for i, (ax, k) in enumerate(zip(lay.axes, cols)):
        y = t / widths[k]
        z = np.where(np.isfinite(eps[:, :, k]), np.maximum(eps[:, :, k], norm.vmin * 0.5),
                     np.nan)
        mesh = ax.pcolormesh(edges(sw, floor=0.0), edges(y, log=y.min() > 0), z.T, cmap=cmap,
                             norm=norm, shading="flat", rasterized=True)
        _eps_contours(ax, sw, y, eps[:, :, k], levels)
        _tn_panel(ax, run, y, crit, ib, i, widths[k], len(cols) > 1)
    lay.trim(len(cols))
    cb = lay.fig.colorbar(mesh, ax=lay.axes, extend="min", pad=0.02, aspect=25,
                          shrink=0.9 if rows > 1 else 1.0)
    cb.set_label(r"$\varepsilon_K$ = excess kurtosis / 3")
    h = _eps_legend(crit is not None and np.isfinite(crit[ib]), levels)
    if np.any(np.isnan(eps[..., cols])):
        h.append(MISSING_GREY)
    lay.legend(h)
    return lay.done(f"Non-Gaussianity of pre-activations, {describe(run, widths[cols])}, "
                    f"sigma_b2 = {run.coord('sigma_b2')[ib]:g}: eps_K = Var G/(E G)^2 over "
                    "(sigma_w2, t/N) with the file's class boundaries "
                    f"({', '.join(f'{v:g}' for v in levels) or 'none recorded'}).")


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
            ax.contour(sw, y, z, levels=[level], colors=OKABE_ITO[2], linewidths=1.3,
                       linestyles=style)


def _eps_legend(with_crit, levels):
    """Legend handles for the class boundaries LEVELS (doc/physics.md §7)."""
    labels = ("Gaussian | perturbative", "perturbative | non-pert.")
    h = [Line2D([], [], color=OKABE_ITO[2], lw=1.3, ls=ls,
                label=rf"$\varepsilon_K = {level:g}$: {text}")
         for level, ls, text in zip(levels, ("-", "--"), labels)]
    if with_crit:
        h.append(Line2D([], [], color=OKABE_ITO[5], lw=1.2, ls="-.", label=r"MFT $\chi_1 = 1$"))
    return h


# ---------------------------------------------------------------- Gaussian regime

DEV_LEVEL = 0.1


def gaussian_regime(run, width="double", edgesweep=None):
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
    norm = Normalize(vmin=-0.5, vmax=0.5)
    rows, ncols = grid_shape(len(cols), width)
    lay = Layout(width, rows, ncols, 0.8, cbar=True, sharex=True, sharey=True)
    crit = mft_critical(run)
    for i, (ax, k) in enumerate(zip(lay.axes, cols)):
        y = t / widths[k]
        d = dev[:, ib, :, k]
        mesh = ax.pcolormesh(edges(sw, floor=0.0), edges(y, log=y.min() > 0), d.T,
                             cmap=diverging_cmap("0.8"), norm=norm, shading="flat", rasterized=True)
        if min(d.shape) >= 2 and np.any(np.isfinite(d)):
            a = smooth(np.abs(d))
            if np.nanmin(a) < DEV_LEVEL < np.nanmax(a):
                ax.contour(sw, y, np.ma.masked_invalid(a.T), levels=[DEV_LEVEL], colors="k",
                           linewidths=1.2)
        if err is not None:
            e = err[:, ib, :, k]
            bad = np.isfinite(d) & (np.abs(d) - 3 * e > DEV_LEVEL)
            ii, jj = np.nonzero(bad)
            ax.plot(sw[ii], y[jj], "x", color="k", ms=3, mew=0.8)
        _tn_panel(ax, run, y, crit, ib, i, widths[k], len(cols) > 1)
    lay.trim(len(cols))
    cb = lay.fig.colorbar(mesh, ax=lay.axes, extend="both", pad=0.02, aspect=25,
                          shrink=0.9 if rows > 1 else 1.0)
    cb.set_label("measured / 1/N theory − 1")
    h = [Line2D([], [], color="k", lw=1.2, label=f"|dev| = {DEV_LEVEL:g} (smoothed)"),
         Line2D([], [], color="k", ls="none", marker="x", ms=4, mew=0.8,
                label=f"|dev| > {DEV_LEVEL:g} by > 3 SE")]
    if crit is not None and np.isfinite(crit[ib]):
        h.append(Line2D([], [], color=OKABE_ITO[5], lw=1.2, ls="-.", label=r"MFT $\chi_1 = 1$"))
    if np.any(np.isnan(dev[:, ib][..., cols])):
        h.append(MISSING_GREY)
    lay.legend(h)
    return lay.done(f"Gaussian-regime map, {describe(run, widths[cols])}, sigma_b2 = "
                    f"{run.coord('sigma_b2')[ib]:g}: measured Var q/(E q)^2 over the 1/N "
                    "theory's, minus 1; the leading 1/N order holds inside the |dev| = 0.1 "
                    "line.")


# ---------------------------------------------------------------- correlation length

def _positive(values):
    """VALUES with non-finite and non-positive entries as NaN (for a log axis)."""
    values = np.asarray(values, float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _xi_measured(run, ax, meas, ib, color):
    """Measured xi_c per width at sigma_b2 index IB: open markers, error bars where the error
    is below half the value, faded markers without a bar where it is not (the decay was not
    resolved). Returns (the largest value worth showing, the smallest, whether a faded point
    was drawn)."""
    sw, widths = run.coord("sigma_w2"), run.coord("width")
    err = run.optional("phase/xi_c_err", ("sigma_w2", "sigma_b2", "width"))
    top, low, faded = np.nan, np.nan, False
    for k in range(len(widths)):
        y = _positive(meas.values[:, ib, k])
        mk = XI_MARKERS[k % len(XI_MARKERS)]
        if err is None:
            e, wide = np.full_like(y, np.nan), np.zeros(len(y), bool)
        else:
            e, wide = informative(y, err.values[:, ib, k])
        ok = np.isfinite(y) & ~wide
        ax.errorbar(sw[ok], y[ok], yerr=e[ok], fmt=mk, color=color, ms=3.5, mfc="none",
                    mew=0.9, capsize=1.5, elinewidth=0.8)
        if np.any(wide):
            ax.plot(sw[wide], y[wide], mk, color=color, ms=3.5, mfc="none", mew=0.9, alpha=0.35)
            faded = True
        top = np.nanmax([top, np.nanmax(y + np.nan_to_num(e), initial=np.nan)])
        low = np.nanmin([low, np.nanmin(y - np.nan_to_num(e), initial=np.nan)])
    return top, low, faded


def xi_c(run, width="double", edgesweep=None):
    """MFT xi_c vs sigma_w2 per sigma_b2 (a dense curve from the binary; it diverges at the
    MFT edge, where it leaves the axes), plus the measured /phase/xi_c per width if present."""
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
    lay = Layout(width, 1, 1, 0.62 if fig_width(width) < 5 else 0.5)
    ax = lay.axes[0]
    top, lows, faded, edge = np.nan, [], False, False
    handles = []
    for ib, color in zip(rows, OKABE_ITO):
        c = crit[ib] if crit is not None else np.nan
        if have_mft:
            x, y, note = mftcurve.mft_curve(run, ib, "xi_c", c, edgesweep)
            if note and note not in lay.fig.es_notes:
                lay.fig.es_notes.append(note)
            y = _positive(y)
            ax.plot(x, y, "-", color=color, lw=1.3)
            away = np.abs(x - c) > 0.05 * c if np.isfinite(c) else np.ones(len(x), bool)
            top = np.nanmax([top, np.nanmax(y[away], initial=np.nan)])
            lows.append(np.nanmin(y, initial=np.nan))
        if np.isfinite(c) and sw[0] <= c <= sw[-1]:
            ax.axvline(c, color=color, ls=":", lw=0.9)
            edge = True
        if meas is not None:
            t, lw, f = _xi_measured(run, ax, meas, ib, color)
            top, faded = np.nanmax([top, t]), faded or f
            lows.append(lw)
        handles.append(Line2D([], [], color=color, ls="none", marker="s", ms=5,
                              label=f"$\\sigma_b^2$ = {sb[ib]:g}"))
    if have_mft:
        handles.append(Line2D([], [], color="0.3", lw=1.3, label=r"MFT ($N = \infty$)"))
    if edge:
        handles.append(Line2D([], [], color="0.3", lw=0.9, ls=":",
                              label=r"MFT edge: $\xi_c \to \infty$"))
    for k in range(len(widths) if meas is not None else 0):
        handles.append(Line2D([], [], ls="none", marker=XI_MARKERS[k % len(XI_MARKERS)],
                              color="0.3", mfc="none", label=f"measured, N = {int(widths[k])}"))
    if faded:
        handles.append(Line2D([], [], ls="none", marker="o", color="0.3", mfc="none",
                              alpha=0.35, label="measured, SE ≥ value/2 (no bar)"))
    ax.set_yscale("log")
    lo = np.nanmin(lows) if np.any(np.isfinite(lows)) else 1.0
    if np.isfinite(top):
        ax.set_ylim(lo / 1.6, top * 2.0)
    ax.set_xlim(*padded(sw))
    ax.set_xlabel(label(run, "sigma_w2"))
    ax.set_ylabel(label(run, "xi_c", (mft or meas).units))
    lay.legend(handles)
    return lay.done(f"Depth scale of correlation propagation, {describe(run)}: MFT xi_c = "
                    "-1/ln chi_c (lines, evaluated densely; it diverges at the MFT edge of "
                    "chaos, dotted, and leaves the axes there) and the measured xi_c per width.")


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


def render(name, run, width="double", edgesweep=None):
    """Build figure NAME for RUN inside the package's style at WIDTH ('single' = 3.4 in,
    'double' = 7.0 in, or inches); EDGESWEEP is the binary for the dense MFT curves (else it is
    looked for, see mftcurve.py). Raise Skip if the file lacks the data.

    NaN cells (pending points, t = 1 of lambda) are expected: the numpy/matplotlib
    warnings they cause are silenced here only."""
    fig_width(width)
    with plt.rc_context(STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*converting a masked element to nan")
        return FIGURES[name](run, width=width, edgesweep=edgesweep)


def _metadata(fig, path):
    """The caption as image metadata, under the keys each format takes."""
    caption = getattr(fig, "es_caption", "") or ""
    if path.endswith(".pdf"):
        return {"Title": caption.split(":")[0], "Subject": caption}
    if path.endswith(".svg"):
        return {"Title": caption.split(":")[0], "Description": caption}
    if path.endswith(".png"):
        return {"Title": caption.split(":")[0], "Description": caption}
    return None


def save(fig, path):
    """Write FIG to PATH at its own size (no tight cropping: the size is the column width)
    with its caption in the metadata, and release it."""
    with plt.rc_context(STYLE):
        fig.savefig(path, metadata=_metadata(fig, path))
    plt.close(fig)
