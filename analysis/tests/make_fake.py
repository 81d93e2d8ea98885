#!/usr/bin/python3
"""Write a synthetic edgesweep output file (doc/output.md layout) for developing the figures.

usage: make_fake.py OUT.h5 [--grid W,B,D,N] [--minimal] [--seed S]

The mean-field part is real tanh MFT (Gauss-Hermite quadrature, doc/physics.md §3); the
ensemble part is MFT plus plausible 1/N shifts and noise (NOT a simulation): lambda_N =
lambda_MFT + c_lambda/N, Var q / q^2 ~ (2 + 2t/3)/N, eps_K ~ (2/3) t/N near the edge.
--minimal leaves out /phase and /theory (like early files). One point is flagged in
/run/status so that masking is exercised.
"""
import argparse

import h5py
import numpy as np
from scipy.optimize import brentq

AXES = ("sigma_w2", "sigma_b2", "depth", "width")
COORD_ATTRS = {
    "sigma_w2": ("1", "weight variance sigma_w^2 (W_ij ~ N(0, sigma_w^2/N))"),
    "sigma_b2": ("1", "bias variance sigma_b^2"),
    "depth": ("layers", "recorded depth t (pre-activation layer h^t)"),
    "width": ("neurons", "hidden width N"),
}
Z, WZ = np.polynomial.hermite_e.hermegauss(40)
WZ = WZ / WZ.sum()
Q0, C0, M, C_LAMBDA = 1.0, 0.5, 64, -0.8


def e1(f, q):
    """E f(sqrt(q) z) for z ~ N(0,1), vectorised over q."""
    return np.tensordot(f(np.sqrt(np.maximum(q, 0))[..., None] * Z), WZ, axes=([-1], [0]))


def e2(f, q, c):
    """E f(u_a) f(u_b), u ~ N(0, q [[1, c], [c, 1]]), vectorised over q, c."""
    sq = np.sqrt(np.maximum(q, 0))[..., None, None]
    c = np.clip(c, -1, 1)[..., None, None]
    ua = sq * Z[:, None]
    ub = sq * (c * Z[:, None] + np.sqrt(1 - c ** 2) * Z[None, :])
    return np.einsum("...ij,i,j->...", f(ua) * f(ub), WZ, WZ)


def dtanh(x):
    """tanh'(x) = sech^2 x."""
    return 1 / np.cosh(x) ** 2


def q_star(sw, sb, steps=400):
    """Stable fixed point of the q-map reached from Q0."""
    q = sw * Q0 + sb
    for _ in range(steps):
        q = sw * e1(lambda x: np.tanh(x) ** 2, q) + sb
    return q


def chi1(sw, sb):
    """chi_1 at q*."""
    return sw * e1(lambda x: dtanh(x) ** 2, q_star(sw, sb))


def xi(chi):
    """Depth scale -1/ln chi (inf for chi >= 1)."""
    return np.where(chi < 1, -1 / np.log(np.minimum(chi, 1 - 1e-12)), np.inf)


def mft(sw, sb, depth):
    """Dict of the /mft datasets on the (sw, sb) mesh at the recorded depths."""
    W, B = np.meshgrid(sw, sb, indexing="ij")
    qs, cs = q_star(W, B), np.ones_like(W) * 0.3
    for _ in range(200):
        cs = (W * e2(np.tanh, qs, cs) + B) / qs
    x1 = W * e1(lambda x: dtanh(x) ** 2, qs)
    xc = W * e2(dtanh, qs, cs)
    xq = W * e1(lambda x: dtanh(x) ** 2 + np.tanh(x) * (-2 * np.tanh(x) * dtanh(x)), qs)
    q, c, lj = [], [], []
    qt, ct, ljt = W * Q0 + B, (W * Q0 * C0 + B) / (W * Q0 + B), np.log(W)
    for t in range(1, depth.max() + 1):
        if t in depth:
            q.append(qt), c.append(ct), lj.append(ljt)
        ljt = ljt + np.log(W * e1(lambda x: dtanh(x) ** 2, qt))
        qn = W * e1(lambda x: np.tanh(x) ** 2, qt) + B
        ct = (W * e2(np.tanh, qt, ct) + B) / qn
        qt = qn
    with np.errstate(divide="ignore"):
        crit = [brentq(lambda s: chi1(s, b) - 1, 0.3, 12) for b in sb]
        phase = np.where(np.abs(x1 - 1) < 1e-6, 2, (x1 > 1).astype(int))
        return {"q_star": qs, "c_star": cs, "chi1": x1, "chi_c": xc, "chi_q": xq,
                "xi_q": xi(xq), "xi_c": xi(xc), "lyapunov": 0.5 * np.log(x1),
                "phase": phase.astype(np.int8), "q": np.stack(q, -1), "c": np.stack(c, -1),
                "logjac": np.stack(lj, -1), "critical_sigma_w2": np.array(crit)}


def ensemble(m, depth, width, rng):
    """Dict of /ensemble and /theory datasets: MFT plus 1/N shifts (theory) plus noise."""
    t = depth[None, None, :, None].astype(float)
    n = width[None, None, None, :].astype(float)
    near = np.exp(-(2 * m["lyapunov"]) ** 2 / 0.02)[..., None, None]
    q, c = m["q"][..., None], m["c"][..., None]
    th = {"q_mean": q * (1 + 0.5 * np.tanh(t / 10) / n),
          "q_var": q ** 2 * (2 + (0.3 + 0.4 * near) * t) / n,
          "c_mean": c - 0.3 * (1 - c) * t / n / (1 + t / 10),
          "c_var": (1 - c ** 2) ** 2 * (1 + 0.1 * t) / n,
          "logjac_mean": m["logjac"][..., None] + 2 * C_LAMBDA * (t - 1) / n,
          "logjac_var": -4 * C_LAMBDA * (t - 1) / n + 1e-3}
    th = {k: np.broadcast_to(v, q.shape[:3] + (len(width),)).copy() for k, v in th.items()}
    noise = lambda shape, scale: scale * rng.standard_normal(shape)
    ens = {}
    for name in ("q", "c", "logjac"):
        se = np.sqrt(th[f"{name}_var"] / M)
        ens[f"{name}_mean"] = th[f"{name}_mean"] + noise(se.shape, se)
        ens[f"{name}_var"] = th[f"{name}_var"] * (1 + noise(se.shape, np.sqrt(2 / (M - 1))))
    ens["qab_mean"], ens["qab_var"] = ens["c_mean"] * ens["q_mean"], ens["c_var"] * ens["q_mean"]
    ens["logq_mean"], ens["logq_var"] = np.log(ens["q_mean"]), ens["q_var"] / ens["q_mean"] ** 2
    eps = (th["q_var"] / th["q_mean"] ** 2 - 2 / n) / 2 * (1 + 0.5 * near)
    ens["kurtosis_stderr"] = 3 * eps * np.sqrt(2 / M) + 0.2 / np.sqrt(M * n)
    ens["kurtosis"] = 3 * eps + noise(eps.shape, ens["kurtosis_stderr"])
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = (ens["logjac_mean"] - ens["logjac_mean"][:, :, :1]) / (2 * (t - 1))
        ens["lyapunov"] = np.where(t > 1, lam, np.nan)
        ens["lyapunov_stderr"] = np.where(t > 1, np.sqrt(th["logjac_var"] / M) / (2 * (t - 1)),
                                          np.nan)
    ens["networks"] = np.full(q.shape[:3] + (len(width),), M, dtype=np.int64)
    return ens, th


def crossing(sw, lam):
    """sigma_w2 where LAM (along axis 0) first crosses 0 upward, linear interpolation."""
    out = np.full(lam.shape[1:], np.nan)
    for idx in np.ndindex(*lam.shape[1:]):
        y = lam[(slice(None),) + idx]
        up = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
        if up.size:
            i = up[0]
            out[idx] = sw[i] - y[i] * (sw[i + 1] - sw[i]) / (y[i + 1] - y[i])
    return out


def write(path, coords, groups, attrs):
    """Write the file: root coordinates as dimension scales attached to every dataset."""
    with h5py.File(path, "w") as f:
        for k, v in attrs.items():
            f.attrs[k] = v
        for a in AXES:
            d = f.create_dataset(a, data=coords[a])
            d.attrs["units"], d.attrs["long_name"] = COORD_ATTRS[a]
            d.make_scale(a)
        for g, (datasets, meta) in groups.items():
            for name, (data, axes) in datasets.items():
                d = f.create_dataset(f"{g}/{name}", data=data)
                d.attrs["units"], d.attrs["long_name"] = meta.get(name, ("1", name))
                for i, a in enumerate(axes):
                    d.dims[i].attach_scale(f[a])
                if f"{g}/{name}" in FLAGS:  # the codes' CF attributes, as edgesweep writes them
                    values, meanings = FLAGS[f"{g}/{name}"]
                    d.attrs["flag_values"] = np.array(values, np.int8)
                    d.attrs["flag_meanings"] = meanings


FLAGS = {"run/status": ((0, 1, 2), "pending done flagged"),
         "mft/phase": ((0, 1, 2, 3), "ordered chaotic critical no_fixed_point")}
UNITS = {"lyapunov": "1/layer", "lyapunov_stderr": "1/layer", "xi_q": "layers",
         "xi_c": "layers", "critical_sigma_w2_err": "1"}


def build(grid, minimal, seed):
    """(coords, groups) for a grid of sizes (W, B, D, N)."""
    nw, nb, nd, nn = grid
    rng = np.random.default_rng(seed)
    coords = {"sigma_w2": np.linspace(0.5, 4.0, nw),
              "sigma_b2": np.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0][:nb]
                                   if nb <= 8 else np.linspace(0, 1, nb)),
              "depth": np.arange(1, nd + 1, dtype=np.int64),
              "width": (16 * 2 ** np.arange(nn)).astype(np.int64)}
    m = mft(coords["sigma_w2"], coords["sigma_b2"], coords["depth"])
    ens, th = ensemble(m, coords["depth"], coords["width"], rng)
    status = np.ones((nw, nb, nn), np.int8)
    status[-1, -1, 0] = 2
    for v in ens.values():
        if v.dtype.kind == "f":
            v[-1, -1, :, 0] = np.nan
    meta = {k: (UNITS.get(k, "1"), f"fake {k}") for k in list(ens) + list(m)}
    groups = {
        "ensemble": ({k: (v, AXES) for k, v in ens.items()}, meta),
        "mft": ({k: (v, AXES[:v.ndim] if k != "critical_sigma_w2" else ("sigma_b2",))
                 for k, v in m.items()}, meta),
        "run": ({"status": (status, ("sigma_w2", "sigma_b2", "width"))}, meta),
    }
    if not minimal:
        lam = ens["lyapunov"][:, :, -1, :]
        crit = crossing(coords["sigma_w2"], lam)
        xi = m["xi_c"][..., None] * (1 + 0.2 * m["xi_c"][..., None] / coords["width"])
        groups["phase"] = ({
            "critical_sigma_w2": (crit, ("sigma_b2", "width")),
            "critical_sigma_w2_err": (np.full_like(crit, 0.03), ("sigma_b2", "width")),
            "lyapunov": (lam, ("sigma_w2", "sigma_b2", "width")),
            "xi_c": (xi * (1 + 0.05 * rng.standard_normal(xi.shape)),
                     ("sigma_w2", "sigma_b2", "width"))}, meta)
        groups["theory"] = ({k: (v, AXES) for k, v in th.items()}, meta)
    return coords, groups


def main():
    """Parse the arguments and write the file."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--grid", default="20,5,30,4", help="sizes W,B,D,N (default 20,5,30,4)")
    p.add_argument("--minimal", action="store_true", help="omit /phase and /theory")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    grid = tuple(int(x) for x in a.grid.split(","))
    coords, groups = build(grid, a.minimal, a.seed)
    attrs = {"format": "edgesweep/1", "version": "0.0.0-fake", "git_commit": "fake",
             "job": "[run]\nname = fake\n", "job_sha256": "0" * 64, "seed": np.uint64(a.seed),
             "command_line": "make_fake.py", "ranks": np.int32(1),
             "created": "2026-01-01T00:00:00Z", "completed": "2026-01-01T00:00:01Z",
             "libraries": "none", "host": "fake", "activation": "tanh",
             "architecture": "feedforward"}
    write(a.out, coords, groups, attrs)


if __name__ == "__main__":
    main()
