#!/usr/bin/python3
"""Linear networks are exactly solvable (doc/physics.md §4.2): with sigma_b2 = 0,
q^T = q0 sigma_w2^T prod_{l<=T} chi2_N/N, so
  E ln q^T - ln(q0 sigma_w2^T) = T (psi(N/2) - ln(N/2)),   Var ln q^T = T psi_1(N/2),
and ln(|u^T|^2/N) (logjac) has exactly the same law with q0 -> 1.
Every estimate is compared with theory through its standard error (fixed seed)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
from scipy.special import polygamma, psi  # noqa: E402


def main():
    M = 3000
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "lin.ini"), {
        "run": {"name": "lin", "seed": 7},
        "network": {"activation": "linear", "q0": 1.7, "c0": 0.3},
        "grid": {"sigma_w2": "0.8, 1.3", "sigma_b2": "0", "depth": "1, 5, 20", "width": "4, 16, 64"},
        "ensemble": {"networks": M},
    })
    out = os.path.join(d, "lin.h5")
    estest.run(["run", job, "-o", out, "--quiet"])

    def var_se(k2, k4, m):
        """Standard error of the unbiased sample variance, from the exact cumulants."""
        mu4 = k4 + 3 * k2 * k2
        return np.sqrt((mu4 - k2 * k2 * (m - 3) / (m - 1)) / m)

    with h5py.File(out, "r") as f:
        q0 = float(f.attrs["q0"])
        for iw, sw2 in enumerate(f["sigma_w2"][()]):
            for idp, T in enumerate(f["depth"][()]):
                for iN, N in enumerate(f["width"][()]):
                    a = N / 2.0
                    shift = T * (psi(a) - np.log(a))
                    k2, k4 = T * polygamma(1, a), T * polygamma(3, a)
                    n = f["ensemble/networks"][iw, 0, idp, iN]
                    estest.check(n == M, f"networks {n} != {M}")
                    for obs, base in (("logq", np.log(q0 * sw2**T)), ("logjac", T * np.log(sw2))):
                        mean = f[f"ensemble/{obs}_mean"][iw, 0, idp, iN]
                        var = f[f"ensemble/{obs}_var"][iw, 0, idp, iN]
                        tag = f"{obs} sw2={sw2:g} T={T} N={N}"
                        estest.check_z(f"E {tag}", mean, base + shift, np.sqrt(k2 / M))
                        estest.check_z(f"Var {tag}", var, k2, var_se(k2, k4, M))
    estest.finish()


if __name__ == "__main__":
    main()
