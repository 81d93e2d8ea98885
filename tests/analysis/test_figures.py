#!/usr/bin/python3
"""Every figure of analysis/plot, from a small real file, at one- and two-column width, as a
paper needs it: the exact width (3.4 in, 7.0 in; PDF page and PNG pixels too), text at
8-9 pt, no titles (only '(a)'-style panel labels), legends unique (labels and drawn styles)
and clear of every panel, lines in Okabe-Ito or grey, maps in RdBu_r (vmin == -vmax) or
magma_r, no variance axis below 0, error bars on log axes only where the error is below half
the value (a bar spans at most a factor 3), the MFT critical line smooth and computed by the
binary (it passes through the file's /mft/critical_sigma_w2), the MFT xi_c dense and leaving
the axes at its divergence.
Without a usable binary the critical line is interpolated and the figure carries a note.
The CLI writes PDF and SVG at single width. Ranks: 1."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
import estest  # noqa: E402

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection, QuadMesh  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from edgesweep_analysis import FIGURES, open_run  # noqa: E402
from edgesweep_analysis import figures as F  # noqa: E402

PLOT = os.path.join(HERE, "..", "..", "analysis", "plot")


def is_panel(fig, ax):
    """AX is a data panel (not a colour bar)."""
    return not hasattr(ax, "_colorbar") and ax.get_label() != "<colorbar>"


def style_of(h):
    """What a legend handle draws, to find two entries that draw the same thing."""
    if isinstance(h, Patch):
        return ("patch", to_hex(h.get_facecolor(), True), h.get_hatch())
    if isinstance(h, Line2D):
        return ("line", to_hex(h.get_color(), True), h.get_linestyle(), h.get_marker(),
                str(h.get_markerfacecolor()), h.get_alpha())
    color = np.asarray(h.get_color()).reshape(-1, 4)[0]
    return (type(h).__name__, to_hex(color, True), str(h.get_linestyle()))


def palette_ok(color):
    """Okabe-Ito, or a grey (black and white included)."""
    c = to_hex(color)
    r, g, b = (int(c[i:i + 2], 16) for i in (1, 3, 5))
    return c.lower() in {x.lower() for x in F.OKABE_ITO} or (r == g == b)


def check_common(name, size, fig):
    tag = f"{name} [{size}]"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    w = fig.get_size_inches()[0]
    estest.check(abs(w - F.SIZES[size]) < 1e-9, f"{tag}: width {w} in, want {F.SIZES[size]}")
    estest.check(fig._suptitle is None or not fig._suptitle.get_text(), f"{tag}: a suptitle")
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    sizes = sorted({round(t.get_fontsize(), 2) for t in texts})
    estest.check(sizes and sizes[0] >= 7.99 and sizes[-1] <= 9.01, f"{tag}: font sizes {sizes} pt")
    panels = [ax for ax in fig.axes if is_panel(fig, ax)]
    for ax in panels:
        estest.check(ax.get_title("center") == "" and ax.get_title("right") == "",
              f"{tag}: an axes title {ax.get_title('center')!r}")
        left = ax.get_title("left")
        estest.check(left == "" or re.match(r"^\([a-z]\)", left), f"{tag}: title {left!r}")
        for line in ax.get_lines():
            estest.check(palette_ok(line.get_color()), f"{tag}: line colour {line.get_color()}")
    for m in fig.findobj(QuadMesh):
        cmap = m.get_cmap().name
        estest.check(cmap in (F.DIVERGING, F.SEQUENTIAL), f"{tag}: colour map {cmap}")
        if cmap == F.DIVERGING:
            n = m.norm
            estest.check(n.vmin == -n.vmax,
                         f"{tag}: diverging scale {n.vmin}..{n.vmax} not symmetric")
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    estest.check(len(legends) <= 1, f"{tag}: {len(legends)} legends")
    for leg in legends:
        labels = [t.get_text() for t in leg.get_texts()]
        estest.check(len(set(labels)) == len(labels), f"{tag}: repeated legend labels {labels}")
        styles = [style_of(h) for h in getattr(leg, "legend_handles", None) or leg.legendHandles]
        estest.check(len(set(styles)) == len(styles), f"{tag}: two legend entries draw the same "
                                                f"thing: {labels}")
        box = leg.get_window_extent(renderer)
        for ax in fig.axes:
            estest.check(not box.overlaps(ax.get_window_extent(renderer)),
                  f"{tag}: the legend overlaps an axes")
        fb = fig.bbox
        estest.check(box.x0 >= fb.x0 - 1 and box.x1 <= fb.x1 + 1 and box.y0 >= fb.y0 - 1,
              f"{tag}: the legend leaves the figure")
    for ax in fig.axes:
        tb = ax.get_tightbbox(renderer)
        estest.check(tb.x0 >= -1 and tb.x1 <= fig.bbox.x1 + 1 and tb.y1 <= fig.bbox.y1 + 1 and
              tb.y0 >= -1, f"{tag}: an axes' labels leave the figure ({tb} vs {fig.bbox})")
        if ax.get_yscale() == "log" and is_panel(fig, ax):
            for coll in ax.collections:
                if isinstance(coll, LineCollection) and not isinstance(coll, QuadMesh):
                    for seg in coll.get_segments():
                        if len(seg) == 2 and seg[0][0] == seg[1][0]:
                            lo, hi = sorted((seg[0][1], seg[1][1]))
                            estest.check(lo > 0 and hi / lo <= 3.0 + 1e-9,
                                  f"{tag}: an error bar from {lo:g} to {hi:g} on a log axis")
    estest.check(getattr(fig, "es_caption", ""), f"{tag}: no caption")
    return panels


def check_phase(run, size, fig, binary_used=True):
    tag = f"phase_diagram [{size}]"
    panels = [ax for ax in fig.axes if is_panel(fig, ax)]
    sb = run.coord("sigma_b2")
    ref = run.field("mft/critical_sigma_w2", ("sigma_b2",)).values
    for ax in panels:
        estest.check(ax.get_ylim()[0] >= 0 and ax.get_xlim()[0] >= 0,
              f"{tag}: variance axis below 0: {ax.get_xlim()}, {ax.get_ylim()}")
        mft = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-" and
               to_hex(ln.get_color()) == "#000000"]
        estest.check(len(mft) == 1, f"{tag}: {len(mft)} solid black MFT lines")
        if not mft:
            continue
        x, y = (np.asarray(v, float) for v in mft[0].get_data())
        estest.check(len(x) >= 100, f"{tag}: MFT line of {len(x)} points is not smooth")
        at = np.interp(sb, y, x)
        estest.check(np.allclose(at, ref, rtol=1e-6 if binary_used else 1e-9),
              f"{tag}: MFT line {at} misses the file's critical sigma_w2 {ref}")
    return panels


def check_xi(run, size, fig):
    tag = f"xi_c [{size}]"
    ax = [a for a in fig.axes if is_panel(fig, a)][0]
    sw = run.coord("sigma_w2")
    crit = run.field("mft/critical_sigma_w2", ("sigma_b2",)).values
    top = ax.get_ylim()[1]
    solid = [ln for ln in ax.get_lines()
             if ln.get_linestyle() == "-" and len(ln.get_xdata()) > 2]
    estest.check(solid and all(len(ln.get_xdata()) > 5 * len(sw) for ln in solid),
          f"{tag}: MFT curves not dense: {[len(ln.get_xdata()) for ln in solid]}")
    for ln, c in zip(solid, crit):
        x, y = (np.asarray(v, float) for v in ln.get_data())
        if sw[0] < c < sw[-1]:
            near = np.abs(x - c) < 1e-3 * c
            estest.check(np.any(near) and np.nanmax(y[near]) > top,
                  f"{tag}: MFT xi_c at sigma_w2 = {c:.4g} stays inside the axes (top {top:g})")


def check_sizes(run, d, binary):
    """Every figure at both widths: common checks, the phase diagram's and xi_c's own, the
    PNG pixels and the PDF page of each."""
    for size in ("single", "double"):
        for name in FIGURES:
            fig = F.render(name, run, width=size, edgesweep=binary)
            check_common(name, size, fig)
            estest.check(not fig.es_notes,
                  f"{name} [{size}]: notes with the binary given: {fig.es_notes}")
            if name == "phase_diagram":
                check_phase(run, size, fig)
            if name == "xi_c":
                check_xi(run, size, fig)
            path = os.path.join(d, f"{name}-{size}")
            if name == "phase_diagram":
                F.save(fig, path + ".png")
                img = mpimg.imread(path + ".png")
                want = round(F.SIZES[size] * F.STYLE["savefig.dpi"])
                estest.check(abs(img.shape[1] - want) <= 1,
                      f"{path}.png: {img.shape[1]} px, want {want}")
                fig = F.render(name, run, width=size, edgesweep=binary)
            F.save(fig, path + ".pdf")
            data = open(path + ".pdf", "rb").read()
            box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
            estest.check(data.startswith(b"%PDF") and box and
                  abs(float(box.group(1)) - 72 * F.SIZES[size]) < 0.5,
                  f"{path}.pdf: page {box and box.groups()}, want {72 * F.SIZES[size]} pt wide")
        print(f"{size}: {len(FIGURES)} figures checked")


def check_fallback(run, d):
    """Without a usable binary: interpolated through the file's points, said in a note."""
    fig = F.render("phase_diagram", run, width="single", edgesweep=os.path.join(d, "no-such"))
    estest.check(any("interpolated" in n for n in fig.es_notes), f"fallback: notes {fig.es_notes}")
    check_phase(run, "single, no binary", fig, binary_used=False)


def check_cli(out, d, binary):
    """analysis/plot writes PDF and SVG at one-column width, and refuses a bad --width."""
    for fmt in ("pdf", "svg"):
        cmd = [PLOT, out, "--out", os.path.join(d, fmt), "--format", fmt, "--width", "single",
               "--edgesweep", binary, "--only", "phase_diagram"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        listed = p.stdout.split()
        estest.check(p.returncode == 0 and listed and all(x.endswith("." + fmt) for x in listed),
              f"plot --format {fmt}: exit {p.returncode}, {listed}, {p.stderr}")
        estest.check("note:" not in p.stderr, f"plot --format {fmt}: {p.stderr}")
        for x in listed:
            head = open(x, "rb").read(4000)
            if fmt == "svg":
                estest.check(b'width="244.8pt"' in head, f"{x}: not 3.4 in wide")
    p = subprocess.run([PLOT, out, "--out", os.path.join(d, "bad"), "--width", "wide"],
                       capture_output=True, text=True)
    estest.check(p.returncode == 2, f"--width wide: exit {p.returncode}")


def main():
    binary = estest.binary()
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "fig.ini"), {
        "run": {"name": "fig", "seed": 11},
        "network": {"activation": "tanh"},
        "grid": {"sigma_w2": "linspace(0.5, 3.5, 7)", "sigma_b2": "0, 0.1, 0.3",
                 "depth": "range(1, 25, 3)", "width": "16, 64"},
        "ensemble": {"networks": 12},
    })
    out = os.path.join(d, "fig.h5")
    estest.run(["run", job, "-o", out, "--quiet"])
    with open_run(out) as run:
        check_sizes(run, d, binary)
        check_fallback(run, d)
    check_cli(out, d, binary)
    estest.finish()


if __name__ == "__main__":
    main()
