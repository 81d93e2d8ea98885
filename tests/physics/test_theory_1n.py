#!/usr/bin/python3
"""The 1/N theory (doc/physics.md §5.1, /theory) beside measurement (/ensemble): mean and variance
of q and of logjac and the excess kurtosis at several (sigma_w2, N, T) for tanh (ordered,
critical, chaotic) and relu at sigma_w2 = 2, with z-scores from the measured standard errors.
Also: the theory's N -> infinity limit is the MFT trajectory (/mft/q), and its variance grows
like T/N with the exact ReLU slope (5 per layer for the metric, doc/physics.md §5.2).
Two inputs (doc/physics.md §5.5): E c, Var c, E q_ab, Var q_ab beside measurement in the same runs,
and with 20000 networks at small N, where the 1/N shift of E c is several standard errors, the
measured E c against the theory and against the MFT c. Gaussian-regime map: the stored
kernel_var_dev is measured/theory - 1 of Var q/(E q)^2, zero within its error at small T/N.
MPI ranks: 2."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    M = 3000
    d = estest.tmpdir()
    cases = [("tanh", "1.5, 1.7609546396, 2.5", "0.05"), ("relu", "2", "0, 0.1")]
    for act, sw2, sb2 in cases:
        job = estest.write_job(os.path.join(d, f"{act}.ini"), {
            "run": {"name": act, "seed": 77},
            "network": {"activation": act, "c0": 0.3},
            "grid": {"sigma_w2": sw2, "sigma_b2": sb2, "depth": "1, 2, 5, 10", "width": "128, 256"},
            "ensemble": {"networks": M},
        })
        out = os.path.join(d, f"{act}.h5")
        estest.run(["run", job, "-o", out, "--quiet"], ranks=2)
        with h5py.File(out, "r") as f:
            E, T = f["ensemble"], f["theory"]
            n = E["networks"][()]
            for iw, s in enumerate(f["sigma_w2"][()]):
                for ib, b in enumerate(f["sigma_b2"][()]):
                    for k, t in enumerate(f["depth"][()]):
                        for iN, N in enumerate(f["width"][()]):
                            at = (iw, ib, k, iN)
                            tag = f"{act} sw2={s:.4g} sb2={b:g} t={t} N={N}"
                            # Leading order holds while T/N is small; for relu the (1 + 5/N)^T
                            # growth of Var q makes the O(T^2/N^2) term visible by T/N ~ 0.05
                            # (with or without a bias: at sw2 = 2 both compound 5/N per layer),
                            # so there the exact law is the reference (below, sb2 = 0).
                            exact_regime = act == "relu" and t / N > 0.04
                            for obs in ("q", "logjac"):
                                m, v = E[f"{obs}_mean"][at], E[f"{obs}_var"][at]
                                estest.check_z(f"E {obs} {tag}", m, T[f"{obs}_mean"][at],
                                               np.sqrt(v / n[at]))
                                if exact_regime and obs == "q":
                                    continue
                                # Var of a sample variance: Gaussian 2 sigma^4/(M-1), widened by
                                # 1.5 for the mild non-Gaussianity of q and logjac over networks.
                                estest.check_z(f"Var {obs} {tag}", v, T[f"{obs}_var"][at],
                                               1.5 * v * np.sqrt(2 / (n[at] - 1)))
                            # Two inputs: c and q_ab (doc/physics.md 5.5).
                            cm, cv = E["c_mean"][at], E["c_var"][at]
                            estest.check_z(f"E c {tag}", cm, T["c_mean"][at], np.sqrt(cv / n[at]))
                            estest.check_z(f"Var c {tag}", cv, T["c_var"][at],
                                           1.5 * cv * np.sqrt(2 / (n[at] - 1)))
                            qm, qv = E["qab_mean"][at], E["qab_var"][at]
                            estest.check_z(f"E q_ab {tag}", qm, T["qab_mean"][at], np.sqrt(qv / n[at]))
                            if not exact_regime:
                                estest.check_z(f"Var q_ab {tag}", qv, T["qab_var"][at],
                                               1.5 * qv * np.sqrt(2 / (n[at] - 1)))
                                estest.check_z(f"kernel_var_dev {tag}", T["kernel_var_dev"][at], 0,
                                               1.5 * T["kernel_var_dev_err"][at])
                            if t > 1 and not exact_regime:
                                estest.check_z(f"kurtosis {tag}", E["kurtosis"][at],
                                               T["kurtosis"][at], E["kurtosis_stderr"][at])
                            if act == "relu" and b == 0:
                                # Exact (doc/physics.md 4.3): Var q/E q^2 = (1+5/N)^(t-1)(1+2/N) - 1,
                                # kurtosis = 3((1+5/N)^(t-1) - 1).
                                g = (1 + 5 / N) ** (t - 1)
                                eq = float(f["mft/q"][iw, ib, k])
                                v = E["q_var"][at]
                                estest.check_z(f"exact Var q {tag}", v, eq * eq * (g * (1 + 2 / N) - 1),
                                               1.5 * v * np.sqrt(2 / (n[at] - 1)))
                                if t > 1:
                                    estest.check_z(f"exact kurtosis {tag}", E["kurtosis"][at],
                                                   3 * (g - 1), E["kurtosis_stderr"][at])
                                    lo = T["kurtosis"][at]
                                    print(f"     leading order kurtosis {lo:.4f} vs exact "
                                          f"{3 * (g - 1):.4f} at T/N = {t / N:.3f}")
            # N -> infinity: N1 E_N1 - N2 E_N2 over N1 - N2 removes the 1/N term.
            q = T["q_mean"][()]
            w = f["width"][()].astype(float)
            lim = (w[1] * q[..., 1] - w[0] * q[..., 0]) / (w[1] - w[0])
            estest.check(np.allclose(lim, f["mft/q"][()], rtol=1e-10, atol=0),
                         f"{act}: theory at N = inf is not the MFT q")
            # The same for c: the theory's c is the MFT c plus a/N.
            cth = T["c_mean"][()]
            lim = (w[1] * cth[..., 1] - w[0] * cth[..., 0]) / (w[1] - w[0])
            estest.check(np.allclose(lim, f["mft/c"][()], rtol=0, atol=1e-10),
                         f"{act}: theory c at N = inf is not the MFT c")
            if act == "relu":
                # Var q/E q^2 at N: (Vzz + 2K^2)/(N K^2) with Vzz/K^2 = 5 (t - 1) exactly
                # (sigma_b2 = 0, the first bias value).
                depth = f["depth"][()]
                for iN, N in enumerate(w):
                    ratio = T["q_var"][0, 0, :, iN] / f["mft/q"][0, 0, :] ** 2
                    estest.check(np.allclose(ratio * N, 5 * (depth - 1) + 2, rtol=1e-9),
                                 f"relu variance slope at N={N}: {ratio * N}")

    # The 1/N shift of E c, resolved: many networks, small N, T/N <= 0.16 (tanh critical and
    # chaotic, relu with a bias). The MFT c is printed with its z-score for comparison.
    M2 = 20000
    for act, sw2, sb2 in (("tanh", "1.7609546396, 2.5", "0.05"), ("relu", "2", "0.1")):
        job = estest.write_job(os.path.join(d, f"{act}_c.ini"), {
            "run": {"name": f"{act}_c", "seed": 91},
            "network": {"activation": act, "c0": 0.3},
            "grid": {"sigma_w2": sw2, "sigma_b2": sb2, "depth": "1, 3, 5, 10", "width": "32, 64"},
            "ensemble": {"networks": M2},
        })
        out = os.path.join(d, f"{act}_c.h5")
        estest.run(["run", job, "-o", out, "--quiet"], ranks=2)
        with h5py.File(out, "r") as f:
            E, T = f["ensemble"], f["theory"]
            n = E["networks"][()]
            for iw, s in enumerate(f["sigma_w2"][()]):
                for k, t in enumerate(f["depth"][()]):
                    for iN, N in enumerate(f["width"][()]):
                        if t / N > 0.16:
                            continue
                        at = (iw, 0, k, iN)
                        tag = f"{act} sw2={s:.4g} t={t} N={N} M={n[at]}"
                        cm, se = E["c_mean"][at], np.sqrt(E["c_var"][at] / n[at])
                        mft = f["mft/c"][iw, 0, k]
                        estest.check_z(f"E c {tag}", cm, T["c_mean"][at], se)
                        print(f"     MFT c {mft:.6g}: z {(cm - mft) / se:+.2f}; N (E c - c_MFT) "
                              f"measured {N * (cm - mft):+.4f} +- {N * se:.4f}, "
                              f"theory {N * (T['c_mean'][at] - mft):+.4f}")
    estest.finish()


if __name__ == "__main__":
    main()
