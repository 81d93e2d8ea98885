#!/usr/bin/python3
"""The W-ref peers (bench/peers/) measure what edgesweep measures: on a small subset (tanh,
N = 64, 64 networks, two sigma_w2 in both phases, sigma_b2 = 0.1) each peer's ensemble means
of q, c and logjac agree with edgesweep's at depths 1, 4 and 16 within 4.5 combined standard
errors (independent random streams). Without torch (scripts/install-deps.sh --with-bench) the
torch peer fails. Runs edgesweep on 1 rank, < 60 s."""
import importlib
import os
import sys


def main():
    HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(HERE, "..", "lib"))
    sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "peers"))
    import estest  # noqa: E402
    import h5py  # noqa: E402
    import numpy as np  # noqa: E402
    import wref_common as wc  # noqa: E402

    SW2, SB2, N, M, T = (1.2, 2.4), 0.1, 64, 64, 16
    DEPTHS = (1, 4, 16)

    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "peers.ini"), {
        "run": {"name": "peers", "seed": 5},
        "network": {"activation": "tanh", "q0": 1.0, "c0": 0.5},
        "grid": {"sigma_w2": ", ".join(map(str, SW2)), "sigma_b2": SB2,
                 "depth": ", ".join(map(str, DEPTHS)), "width": N},
        "ensemble": {"networks": M},
    })
    out = os.path.join(d, "peers.h5")
    estest.run(["run", job, "-o", out, "--quiet"])
    with h5py.File(out, "r") as f:
        es = {k: f[f"ensemble/{k}"][()] for k in
              ("q_mean", "q_var", "c_mean", "c_var", "logjac_mean", "logjac_var")}

    p = dict(wc.wref(), sigma_w2=np.array(SW2), sigma_b2=np.array([SB2]),
             width=np.array([N]), networks=M, depth=np.arange(1, T + 1), seed=7)
    for name in ("numpy_explicit", "torch_explicit", "numpy_gram"):
        mod = importlib.import_module(name)
        if name == "torch_explicit" and mod.torch is None:
            # Never a silent skip: scripts/test.sh installs torch, so its absence is a failure.
            estest.check(False, f"{name}: {mod.TORCH_ERROR} (scripts/install-deps.sh --with-bench)")
            continue
        res, sec, _ = wc.run_grid(p, lambda *a: mod.point(*a, q0=p["q0"], c0=p["c0"]))
        print(f"{name}: {sec:.2f} s")
        for iw, sw2 in enumerate(SW2):
            for k, t in enumerate(DEPTHS):
                for obs in ("q", "c", "logjac"):
                    a, va = es[obs + "_mean"][iw, 0, k, 0], es[obs + "_var"][iw, 0, k, 0]
                    b, vb = res[obs + "_mean"][iw, 0, t - 1, 0], res[obs + "_var"][iw, 0, t - 1, 0]
                    z = (b - a) / np.sqrt((va + vb) / M)
                    estest.check(abs(z) <= 4.5, f"{name} {obs} sw2={sw2} t={t}: peer {b:.6g} "
                                 f"edgesweep {a:.6g} z {z:+.2f} beyond 4.5")
                    print(f"{name} {obs} sw2={sw2} t={t}: peer {b:.6g} edgesweep {a:.6g} "
                          f"z {z:+.2f}")
    estest.finish()


if __name__ == "__main__":
    main()
