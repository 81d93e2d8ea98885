#!/usr/bin/python3
"""At large width the ensemble follows mean-field theory: for tanh at N = 4096 the measured
q^t, q_ab^t and c^t match the MFT maps (doc/physics.md §3.1, iterated here independently of the C
code by Gauss-Hermite quadrature) within their standard errors, layer by layer, in both
phases. The O(1/N) bias is ~1e-4 relative, far below the errors used."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    Z, WZ = np.polynomial.hermite_e.hermegauss(160)
    WZ = WZ / WZ.sum()
    Z1, Z2 = np.meshgrid(Z, Z, indexing="ij")
    W2 = np.outer(WZ, WZ)

    def mft(sw2, sb2, q0, c0, T):
        """q^t, q_ab^t, c^t for t = 1..T from |x|^2/N0 = q0 and cosine c0."""
        q, qab = sw2 * q0 + sb2, sw2 * q0 * c0 + sb2
        out = []
        for _ in range(T):
            c = qab / q
            out.append((q, qab, c))
            ua = np.sqrt(q) * Z1
            ub = np.sqrt(q) * (c * Z1 + np.sqrt(max(1 - c * c, 0)) * Z2)
            q_next = sw2 * np.dot(WZ, np.tanh(np.sqrt(q) * Z) ** 2) + sb2
            qab = sw2 * np.sum(W2 * np.tanh(ua) * np.tanh(ub)) + sb2
            q = q_next
        return np.array(out)

    M, N = 40, 4096
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "tanh.ini"), {
        "run": {"name": "tanh", "seed": 11},
        "network": {"activation": "tanh", "q0": 1.0, "c0": 0.6},
        "grid": {"sigma_w2": "1.2, 2.5", "sigma_b2": "0.05", "depth": "range(1, 25, 3)",
                 "width": N},
        "ensemble": {"networks": M},
    })
    out = os.path.join(d, "tanh.h5")
    estest.run(["run", job, "-o", out, "--quiet"])
    with h5py.File(out, "r") as f:
        depths = f["depth"][()]
        for iw, sw2 in enumerate(f["sigma_w2"][()]):
            th = mft(sw2, 0.05, 1.0, 0.6, int(depths.max()))
            for k, t in enumerate(depths):
                for j, name in enumerate(("q", "qab", "c")):
                    mean = f[f"ensemble/{name}_mean"][iw, 0, k, 0]
                    se = np.sqrt(f[f"ensemble/{name}_var"][iw, 0, k, 0] / M)
                    estest.check_z(f"{name} sw2={sw2:g} t={t}", mean, th[t - 1, j], se)
        # The C module's /mft trajectory agrees with this independent quadrature.
        for iw, sw2 in enumerate(f["sigma_w2"][()]):
            th = mft(sw2, 0.05, 1.0, 0.6, int(depths.max()))
            for k, t in enumerate(depths):
                for j, name in ((0, "q"), (2, "c")):
                    v = f[f"mft/{name}"][iw, 0, k]
                    estest.check(abs(v - th[t - 1, j]) < 1e-8, f"/mft/{name} t={t}: {v} vs {th[t-1, j]}")
    estest.finish()


if __name__ == "__main__":
    main()
