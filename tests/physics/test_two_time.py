#!/usr/bin/python3
"""Two-time overlaps (doc/physics.md §3.1.1): the measured q_aa(t, t-L) = h_a^t.h_a^(t-L)/N and
q_ab(t, t-L) = h_a^t.h_b^(t-L)/N of `[ensemble] lags` (/ensemble/qts_*) match the two-time
DMFT C(t, t-L) that `edgesweep run` writes beside them (/mft/cts_*) within z-score bounds, for
recurrent tanh nets at N = 512 with leak 1, noise 0 and with leak 0.5, noise 0.1, and for
feedforward nets (independent weights, gram sampling) at leak 0.5, noise 0.1. The bias
allowance is the equal-time q^t/N of test_recurrent_mft.py, added in quadrature to the
standard error. The recurrent measurement rejects the independent-weights C(t, s): the test
can tell the two DMFTs apart. A lag reaching before layer 1 is NaN in both. One rank, fixed
seeds; ~10 s."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    d = estest.tmpdir()

    def run(arch, leak, noise, tag, M, N, method):
        job = estest.write_job(os.path.join(d, f"{tag}.ini"), {
            "run": {"name": tag, "seed": 11},
            "network": {"architecture": arch, "activation": "tanh", "leak": leak, "noise": noise,
                        "q0": 1.0, "c0": 0.6},
            "grid": {"sigma_w2": "1.2, 3.0", "sigma_b2": "0.05", "depth": "2, 4, 8", "width": N},
            "ensemble": {"networks": M, "method": method, "lags": "1, 2, 5"},
        })
        out = os.path.join(d, f"{tag}.h5")
        estest.run(["run", job, "-o", out, "--quiet"])
        return h5py.File(out, "r")

    def compare(f, tag, M, N):
        depths, lags = f["depth"][()], f["lag"][()]
        estest.check(list(lags) == [1, 2, 5], f"{tag}: lag axis {lags}")
        for iw, sw2 in enumerate(f["sigma_w2"][()]):
            for k, t in enumerate(depths):
                q_t = f["mft/q"][iw, 0, k]
                for li, L in enumerate(lags):
                    for x in ("aa", "ab"):
                        mean = f[f"ensemble/qts_{x}_mean"][iw, 0, k, 0, li]
                        var = f[f"ensemble/qts_{x}_var"][iw, 0, k, 0, li]
                        th = f[f"mft/cts_{x}"][iw, 0, k, li]
                        if t - L < 1:
                            estest.check(np.isnan(mean) and np.isnan(th),
                                         f"{tag} {x} t={t} L={L}: NaN before layer 1")
                            continue
                        estest.check(np.isfinite(th), f"{tag} /mft/cts_{x} finite t={t} L={L}")
                        estest.check_z(f"{tag} q_{x}({t},{t - L}) sw2={sw2:g}", mean, th,
                                       np.hypot(np.sqrt(var / M), q_t / N))

    N = 512
    rec1 = run("recurrent", 1, 0, "rec_leak1", 32, N, "dense")
    compare(rec1, "recurrent leak 1", 32, N)
    rec = run("recurrent", 0.5, 0.1, "rec_leak05", 32, N, "dense")
    compare(rec, "recurrent leak 0.5", 32, N)
    ff = run("feedforward", 0.5, 0.1, "ff_leak05", 64, N, "gram")
    compare(ff, "feedforward leak 0.5", 64, N)
    # Shared weights keep h^t correlated with its past far more than fresh ones: the recurrent
    # measurement rejects the independent-weights C(t, s) (a test that could not tell the two
    # apart would pass a DMFT that forgot the weights are shared).
    for iw, sw2 in enumerate(rec["sigma_w2"][()]):
        mean = rec["ensemble/qts_aa_mean"][iw, 0, 2, 0, 1]
        se = np.hypot(np.sqrt(rec["ensemble/qts_aa_var"][iw, 0, 2, 0, 1] / 32),
                      rec["mft/q"][iw, 0, 2] / N)
        z = (mean - ff["mft/cts_aa"][iw, 0, 2, 1]) / se
        estest.check(abs(z) > 8, f"sw2={sw2:g}: recurrent q_aa(8,6) {mean:.4f} vs independent-"
                     f"weights C {ff['mft/cts_aa'][iw, 0, 2, 1]:.4f}: z {z:.1f} should be far")
    for f in (rec1, rec, ff):
        f.close()
    estest.finish()


if __name__ == "__main__":
    main()
