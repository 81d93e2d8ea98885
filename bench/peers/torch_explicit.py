#!/usr/bin/python3
"""W-ref the way a physicist writes it in PyTorch: float64, explicit weights
W ~ N(0, sw2/N) drawn with torch.randn for a batch of networks, torch.bmm over the batch,
the two inputs and the tangent as three columns. Same options as numpy_explicit.py.

    bench/peers/torch_explicit.py --sw2 1.6 --sb2 0 --networks 8   # a subset, extrapolated
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import wref_common as wc  # noqa: E402

try:
    import torch
except ImportError as e:  # reported, never faked: run.sh prints "not measured"
    torch = None
    TORCH_ERROR = str(e)

W_BYTES = 64 << 20  # W held at once, as in numpy_explicit.py


def point(sw2, sb2, n, m, T, seed, q0=1.0, c0=0.5):
    g = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    # x_a, x_b (|x|^2/N0 = q0, cosine c0) and u0 (orthogonal, |u0|^2/N0 = 1).
    e, _ = torch.linalg.qr(torch.randn(n, 3, generator=g, dtype=f64))
    e = e * n ** 0.5
    X0 = torch.stack([q0 ** 0.5 * e[:, 0],
                      q0 ** 0.5 * (c0 * e[:, 0] + (1 - c0 * c0) ** 0.5 * e[:, 1]),
                      e[:, 2]], dim=1)
    rec = np.empty((m, T, len(wc.OBS)))
    B = max(1, min(m, W_BYTES // (8 * n * n)))
    sw, sb = (sw2 / n) ** 0.5, sb2 ** 0.5
    with torch.no_grad():
        for a in range(0, m, B):
            b = min(m, a + B)
            X = X0.expand(b - a, n, 3)
            logjac = torch.zeros(b - a, dtype=f64)
            for t in range(1, T + 1):
                W = torch.randn(b - a, n, n, generator=g, dtype=f64) * sw
                H = torch.bmm(W, X)
                bias = torch.randn(b - a, n, generator=g, dtype=f64) * sb if sb2 > 0 else 0.0
                ha, hb, u = H[..., 0] + bias, H[..., 1] + bias, H[..., 2]
                r = (u * u).sum(dim=1) / n  # renormalised every layer: no overflow
                logjac = logjac + torch.log(r)
                u = u / torch.sqrt(r)[:, None]
                rec[a:b, t - 1] = wc.measure(ha.numpy(), hb.numpy(), logjac.numpy())
                fa = torch.tanh(ha)
                X = torch.stack([fa, torch.tanh(hb), (1.0 - fa * fa) * u], dim=2)
    return rec


if __name__ == "__main__":
    args = wc.parser(__doc__).parse_args()
    if torch is None:
        import json
        msg = f"torch_explicit: NOT MEASURED ({TORCH_ERROR})"
        print(json.dumps({"peer": "torch_explicit", "error": msg}) if args.json else msg)
        sys.exit(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    p = wc.params_from(args)
    p["seed"] = args.seed
    res, sec, cpu = wc.run_grid(p, lambda *a: point(*a, q0=p["q0"], c0=p["c0"]))
    wc.report("torch_explicit", p, res, sec, cpu, True, args,
              {"torch": torch.__version__, "torch_threads": torch.get_num_threads()})
