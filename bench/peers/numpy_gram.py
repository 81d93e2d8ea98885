#!/usr/bin/python3
"""The gram algorithm of doc/physics.md §2 in numpy, vectorised over the networks of a point: per
layer the 3x3 Gram matrix of the columns [phi(h_a), phi(h_b) - phi(h_a), phi'(h_a) u],
its Cholesky factor, and 3 standard normals per neuron. Like edgesweep it carries
d = h_b - h_a (the Gram of [phi(h_a), phi(h_b), ...] in the difference basis, the same law)
so that 1 - c stays accurate as c -> 1, where a Cholesky in the (a, b) basis breaks down.

    bench/peers/numpy_gram.py                    # the full W-ref (seconds to a minute)
    bench/peers/numpy_gram.py --widths 1024      # a subset, extrapolated linearly in N T M
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wref_common as wc  # noqa: E402

if __name__ == "__main__":
    _args = wc.parser(__doc__).parse_args()
    if _args.threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(_args.threads)
import numpy as np  # noqa: E402


def chol3(s11, s21, s22, s31, s32, s33):
    """Vectorised lower Cholesky factor of 3x3 PSD matrices; zero pivots give zero columns
    (the exact law of a degenerate Gaussian), as es__chol3."""
    l11 = np.sqrt(np.maximum(s11, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        l21 = np.where(l11 > 0, s21 / l11, 0.0)
        l31 = np.where(l11 > 0, s31 / l11, 0.0)
        r22 = s22 - l21 * l21
        l22 = np.where(r22 > 1e-300, np.sqrt(np.maximum(r22, 0.0)), 0.0)
        l32 = np.where(l22 > 0, (s32 - l31 * l21) / l22, 0.0)
        r33 = s33 - l31 * l31 - l32 * l32
        l33 = np.where(r33 > 1e-300, np.sqrt(np.maximum(r33, 0.0)), 0.0)
    return [x[:, None] for x in (l11, l21, l22, l31, l32, l33)]


def sample(L, rng, m, n):
    z = rng.standard_normal((3, m, n))
    l11, l21, l22, l31, l32, l33 = L
    return l11 * z[0], l21 * z[0] + l22 * z[1], l31 * z[0] + l32 * z[1] + l33 * z[2]


def point(sw2, sb2, n, m, T, seed, q0=1.0, c0=0.5):
    rng = np.random.default_rng(seed)
    rec = np.empty((m, T, len(wc.OBS)))
    one = np.ones(m)
    # Layer 1: (h_a, d, u) rows ~ N(0, S) given q0, c0 (W^0 x, W^0 u0 with u0 orthogonal).
    L = chol3(one * (sw2 * q0 + sb2), one * (-sw2 * q0 * (1 - c0)),
              one * (2 * sw2 * q0 * (1 - c0)), 0 * one, 0 * one, one * sw2)
    ha, d, u = sample(L, rng, m, n)
    logjac = np.zeros(m)
    w = sw2 / n
    for t in range(1, T + 1):
        r = np.einsum("ki,ki->k", u, u) / n
        logjac += np.log(r)
        u /= np.sqrt(r)[:, None]
        # 1 - c from |h_a - h_b|^2: no cancellation as c -> 1 (as edgesweep).
        hb = ha + d
        obs = wc.measure(ha, hb, logjac)
        qa, qb = obs[:, 0], obs[:, 1]
        ra, rb = np.sqrt(qa), np.sqrt(qb)
        obs[:, 3] = 1.0 - (np.einsum("ki,ki->k", d, d) / n - (ra - rb) ** 2) / (2 * ra * rb)
        rec[:, t - 1] = obs
        if t == T:
            break
        fa = np.tanh(ha)
        df = np.tanh(hb) - fa
        v = (1.0 - fa * fa) * u
        g = [np.einsum("ki,ki->k", x, y) for x, y in
             ((fa, fa), (df, fa), (df, df), (v, fa), (v, df), (v, v))]
        L = chol3(w * g[0] + sb2, w * g[1], w * g[2], w * g[3], w * g[4], w * g[5])
        ha, d, u = sample(L, rng, m, n)
    return rec


if __name__ == "__main__":
    p = wc.params_from(_args)
    p["seed"] = _args.seed
    res, sec, cpu = wc.run_grid(p, lambda *a: point(*a, q0=p["q0"], c0=p["c0"]))
    wc.report("numpy_gram", p, res, sec, cpu, False, _args)
