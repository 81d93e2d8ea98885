"""Mean-field curves finer than the file's grid, from the edgesweep binary's `critical` and
`mft --json` commands, so that a figure's MFT line does not depend on where the sweep put
its grid points.

The binary is looked for in this order: the path given to the figure (`--edgesweep PATH`),
$EDGESWEEP, the program named in the file's `command_line` attribute (absolute, or relative to
the working directory, the file's directory or its parent), this tree's build/edgesweep, and
`edgesweep` on PATH. A candidate is used only if it reproduces the file's own
/mft/critical_sigma_w2 (same activation, leak, noise, q0, c0), so a binary of another version
or physics is never mixed with the file's data. Without one, the curve is interpolated through
the file's grid points and the figure carries a note saying so.
"""
import json
import os
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TREE_BINARY = os.path.join(HERE, "..", "..", "build", "edgesweep")
ENV = "EDGESWEEP"
AGREE = 1e-6          # relative agreement with the file's /mft/critical_sigma_w2
JOBS = 2              # concurrent binary calls (the machines it runs on have few cores)
_TOOLS = {}


def _params(run):
    """Command-line options that fix the MFT of RUN besides sigma_w2 and sigma_b2."""
    out = ["--activation", str(run.attr("activation", ""))]
    for key in ("leak", "noise", "q0", "c0"):
        value = run.attr(key, None)
        if value is not None and value != "":
            out += [f"--{key}", repr(float(value))]
    return out


def _candidates(run, explicit):
    """Binary paths to try, best first, each with how it was found."""
    if explicit:
        yield explicit, "--edgesweep"
        return
    if os.environ.get(ENV):
        yield os.environ[ENV], f"${ENV}"
    try:
        argv0 = shlex.split(str(run.attr("command_line", "")))[:1]
    except ValueError:
        argv0 = []
    if argv0:
        prog = argv0[0]
        base = os.path.dirname(os.path.abspath(run.path))
        roots = [""] if os.path.isabs(prog) else [os.getcwd(), base, os.path.dirname(base)]
        for root in roots:
            yield os.path.join(root, prog), "the file's command_line"
    yield os.path.normpath(TREE_BINARY), "this tree's build/edgesweep"
    on_path = shutil.which("edgesweep")
    if on_path:
        yield on_path, "PATH"


class MftTool:
    """The binary's `critical` and `mft --json` for the MFT parameters of one file."""

    def __init__(self, path, params):
        self.path = path
        self.params = params
        self._critical = {}
        self._point = {}

    def _json(self, args):
        p = subprocess.run([self.path] + args + self.params + ["--json"], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"{self.path} {' '.join(args)}: exit {p.returncode}: "
                               f"{p.stderr.strip()}")
        return json.loads(p.stdout)

    def _map(self, fn, keys, cache):
        todo = [k for k in dict.fromkeys(keys) if k not in cache]
        with ThreadPoolExecutor(JOBS) as pool:
            for k, v in zip(todo, pool.map(fn, todo)):
                cache[k] = v
        return [cache[k] for k in keys]

    def critical(self, sigma_b2):
        """Critical sigma_w2 (NaN where none) for each value of SIGMA_B2."""
        def one(sb):
            try:
                v = self._json(["critical", "--sigma-b2", repr(sb)])["critical_sigma_w2"]
            except RuntimeError:  # refused (e.g. out of range): no value there
                return np.nan
            return np.nan if v is None else float(v)
        keys = [float(x) for x in np.atleast_1d(sigma_b2)]
        return np.array(self._map(one, keys, self._critical))

    def points(self, sigma_w2, sigma_b2, key):
        """The `mft --json` value KEY at each SIGMA_W2 for one SIGMA_B2 (NaN where null)."""
        def one(sw):
            try:
                return self._json(["mft", "--sigma-w2", repr(sw), "--sigma-b2", repr(sigma_b2)])
            except RuntimeError:  # refused (e.g. out of range): no value there
                return {}
        keys = [float(x) for x in np.atleast_1d(sigma_w2)]
        rows = self._map(one, keys, self._point.setdefault(float(sigma_b2), {}))
        return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows])


def tool(run, explicit=None):
    """(MftTool, how) for RUN, or (None, why not): a binary that reproduces the file's
    /mft/critical_sigma_w2 at the file's sigma_b2 values."""
    key = (os.path.abspath(run.path), explicit, os.environ.get(ENV))
    if key in _TOOLS:
        return _TOOLS[key]
    ref = run.optional("mft/critical_sigma_w2", ("sigma_b2",))
    sb = run.coord("sigma_b2")
    result = (None, "no edgesweep binary found (give --edgesweep PATH or set $EDGESWEEP)")
    if ref is None or not run.attr("activation", ""):
        result = (None, "the file has no /mft/critical_sigma_w2 to check a binary against")
    else:
        tried = []
        for path, how in _candidates(run, explicit):
            if not (os.path.isfile(path) and os.access(path, os.X_OK)) or path in tried:
                continue
            tried.append(path)
            t = MftTool(os.path.abspath(path), _params(run))
            try:
                got = t.critical(sb)
            except (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError):
                continue
            want = ref.values
            same = np.array_equal(np.isfinite(got), np.isfinite(want)) and np.all(
                np.abs(got - want)[np.isfinite(want)] <= AGREE * np.abs(want[np.isfinite(want)]))
            if same:
                result = (t, f"{path} (found via {how})")
                break
        else:
            if tried:
                result = (None, f"{', '.join(tried)} does not reproduce the file's "
                                "/mft/critical_sigma_w2 (another version or model?)")
    _TOOLS[key] = result
    return result


def _pchip(x, y, xs):
    """Monotone cubic interpolation of (X, Y) at XS over the finite points (NaN outside)."""
    from scipy.interpolate import PchipInterpolator
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.full(len(xs), np.nan)
    if np.sum(ok) < 2:
        return out
    inside = (xs >= x[ok].min()) & (xs <= x[ok].max())
    out[inside] = PchipInterpolator(x[ok], y[ok])(xs[inside])
    return out


def critical_curve(run, explicit=None, span=None, n=121):
    """(sigma_b2, critical sigma_w2, note) as a smooth curve over SPAN = (lo, hi) (default the
    file's sigma_b2 range), or None when the file has no MFT critical line. NOTE is '' when the
    binary computed it; interpolation (no usable binary) stays within the file's range."""
    ref = run.optional("mft/critical_sigma_w2", ("sigma_b2",))
    if ref is None or not np.any(np.isfinite(ref.values)):
        return None
    sb = run.coord("sigma_b2").astype(float)
    lo, hi = span if span is not None else (sb.min(), sb.max())
    lo = max(lo, 0.0)
    # Where the line turns (tanh: sigma_w2 rises steeply from sigma_b2 = 0) it needs
    # geometrically finer steps than the even ones.
    dense = np.linspace(lo, hi, n)
    dense = np.unique(np.concatenate([dense, sb[(sb >= lo) & (sb <= hi)],
                                      lo + (hi - lo) * np.logspace(-6, -1.5, 19)]))
    t, how = tool(run, explicit)
    if t is not None:
        return dense, t.critical(dense), ""
    return dense, _pchip(sb, ref.values, dense), (
        f"MFT critical line interpolated (monotone cubic) through the file's {len(sb)} "
        f"sigma_b2 values: {how}")


def mft_curve(run, ib, key, crit, explicit=None, n=61):
    """(sigma_w2, MFT KEY, note) at sigma_b2 index IB from `mft --json` on a dense sigma_w2
    grid that closes in geometrically on the edge of chaos CRIT (where xi_c diverges and
    lambda has a kink), or the file's /mft/KEY at its grid points with a note."""
    sw = run.coord("sigma_w2").astype(float)
    t, how = tool(run, explicit)
    if t is None:
        f = run.optional(f"mft/{key}", ("sigma_w2", "sigma_b2"))
        return sw, (None if f is None else f.values[:, ib]), (
            f"MFT {key} drawn at the file's {len(sw)} sigma_w2 values only: {how}")
    grid = np.linspace(sw.min(), sw.max(), n)
    if np.isfinite(crit) and sw.min() < crit < sw.max():
        near = crit * np.logspace(-4, -0.3, 30)
        grid = np.concatenate([grid, crit - near, crit + near])
        grid = grid[(grid >= sw.min()) & (grid <= sw.max()) & (grid != crit)]
    grid = np.unique(grid)
    return grid, t.points(grid, float(run.coord("sigma_b2")[ib]), key), ""
