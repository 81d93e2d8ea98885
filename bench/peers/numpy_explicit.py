#!/usr/bin/python3
"""W-ref the way a physicist writes it in numpy: explicit weight matrices W ~ N(0, sw2/N)
per network and layer, the two inputs and the tangent batched as three columns, the
networks of a point batched along a leading axis (np.matmul over the stack).

    bench/peers/numpy_explicit.py                       # the full W-ref (about half an hour)
    bench/peers/numpy_explicit.py --sw2 1.6 --sb2 0 --networks 8   # a subset, extrapolated
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wref_common as wc  # noqa: E402

ap = wc.parser(__doc__) if __name__ == "__main__" else None
if ap is not None:
    _args = ap.parse_args()
    if _args.threads:  # must precede the numpy import to reach OpenBLAS
        os.environ["OPENBLAS_NUM_THREADS"] = str(_args.threads)
import numpy as np  # noqa: E402

# Bytes of W held at once: the networks of a point go through in chunks of this size.
W_BYTES = 64 << 20


def inputs(n0, q0, c0, rng):
    """x_a, x_b with |x|^2/N0 = q0 and cosine c0, and u0 orthogonal to both, |u0|^2/N0 = 1:
    three orthonormal directions scaled (the law of W x does not depend on which)."""
    e, _ = np.linalg.qr(rng.standard_normal((n0, 3)))
    e *= np.sqrt(n0)
    xa = np.sqrt(q0) * e[:, 0]
    xb = np.sqrt(q0) * (c0 * e[:, 0] + np.sqrt(1 - c0 * c0) * e[:, 1])
    return np.stack([xa, xb, e[:, 2]], axis=1)  # (N0, 3)


def point(sw2, sb2, n, m, T, seed, q0=1.0, c0=0.5):
    rng = np.random.default_rng(seed)
    X0 = inputs(n, q0, c0, rng)
    rec = np.empty((m, T, len(wc.OBS)))
    B = max(1, min(m, W_BYTES // (8 * n * n)))
    for a in range(0, m, B):
        b = min(m, a + B)
        X = np.broadcast_to(X0, (b - a, n, 3))
        logjac = np.zeros(b - a)
        for t in range(1, T + 1):
            W = rng.normal(0.0, np.sqrt(sw2 / n), size=(b - a, n, n))
            H = np.matmul(W, X)
            bias = rng.normal(0.0, np.sqrt(sb2), size=(b - a, n)) if sb2 > 0 else 0.0
            ha, hb, u = H[..., 0] + bias, H[..., 1] + bias, H[..., 2]
            # Renormalise the tangent every layer so its log-norm never overflows.
            r = np.einsum("ki,ki->k", u, u) / n
            logjac += np.log(r)
            u = u / np.sqrt(r)[:, None]
            rec[a:b, t - 1] = wc.measure(ha, hb, logjac)
            fa = np.tanh(ha)
            X = np.stack([fa, np.tanh(hb), (1.0 - fa * fa) * u], axis=2)
    return rec


if __name__ == "__main__":
    p = wc.params_from(_args)
    p["seed"] = _args.seed
    res, sec, cpu = wc.run_grid(p, lambda *a: point(*a, q0=p["q0"], c0=p["c0"]))
    wc.report("numpy_explicit", p, res, sec, cpu, True, _args)
