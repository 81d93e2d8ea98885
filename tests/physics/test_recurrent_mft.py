#!/usr/bin/python3
"""Recurrent (shared-weight) networks follow the general-model DMFT of doc/physics.md §3.1 that
`edgesweep run` writes to /mft for architecture = recurrent: the measured q^t, c^t and
logjac^t of a dense recurrent tanh ensemble at N = 512 match /mft/q, /mft/c, /mft/logjac
within z-score bounds, at leak 1, noise 0 (where shared and independent weights coincide and
/mft is the feedforward trajectory) and at leak 0.5, noise 0.1 (where they differ: the same
job as feedforward gives another /mft, which the recurrent measurement rejects).
One rank, fixed seeds; ~10 s."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    M, N = 32, 512
    d = estest.tmpdir()

    def run(arch, leak, noise, tag):
        job = estest.write_job(os.path.join(d, f"{tag}.ini"), {
            "run": {"name": tag, "seed": 7},
            "network": {"architecture": arch, "activation": "tanh", "leak": leak, "noise": noise,
                        "q0": 1.0, "c0": 0.6},
            "grid": {"sigma_w2": "1.8, 3.0", "sigma_b2": "0.05", "depth": "1, 2, 4, 8",
                     "width": N},
            "ensemble": {"networks": M, "method": "dense"},
        })
        out = os.path.join(d, f"{tag}.h5")
        estest.run(["run", job, "-o", out, "--quiet"])
        return h5py.File(out, "r")

    def compare(f, tag):
        """Measured vs /mft, per sigma_w2 and depth. Finite-N bias O(1/N) is one extra sigma:
        q/N for q, 1/N for c; E ln r = ln E r - Var(ln r)/2 to leading order, so logjac is
        compared after adding back half its measured variance."""
        depths = f["depth"][()]
        for iw, sw2 in enumerate(f["sigma_w2"][()]):
            for k, t in enumerate(depths):
                for name, scale in (("q", None), ("c", 1.0), ("logjac", None)):
                    mean = f[f"ensemble/{name}_mean"][iw, 0, k, 0]
                    var = f[f"ensemble/{name}_var"][iw, 0, k, 0]
                    mft = f[f"mft/{name}"][iw, 0, k]
                    se = np.sqrt(var / M)
                    if name == "logjac":
                        mean = mean + var / 2
                        bias = np.sqrt(var) / np.sqrt(N)
                    else:
                        bias = (mft if scale is None else scale) / N
                    estest.check(np.isfinite(mft), f"{tag} /mft/{name} finite at t={t}")
                    estest.check_z(f"{tag} {name} sw2={sw2:g} t={t}", mean, mft,
                                   np.hypot(se, bias))

    # leak 1, noise 0: recurrent /mft is the feedforward trajectory (fixed points kept).
    rec1 = run("recurrent", 1, 0, "rec_leak1")
    ff1 = run("feedforward", 1, 0, "ff_leak1")
    compare(rec1, "recurrent leak 1")
    for name in ("q", "c", "logjac", "q_star", "chi1", "lyapunov"):
        a, b = rec1[f"mft/{name}"][()], ff1[f"mft/{name}"][()]
        estest.check(np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True),
                     f"leak 1: recurrent /mft/{name} equals feedforward")

    # leak 0.5, noise 0.1: the DMFT with shared weights; doc/physics.md §3.1 gives q_aa^8.
    rec = run("recurrent", 0.5, 0.1, "rec_leak05")
    ff = run("feedforward", 0.5, 0.1, "ff_leak05")
    compare(rec, "recurrent leak 0.5")
    compare(ff, "feedforward leak 0.5")
    i18 = list(rec["sigma_w2"][()]).index(1.8)
    estest.check(abs(rec["mft/q"][i18, 0, 3] - 3.6967) < 1e-4,
                 f"/mft/q^8 recurrent {rec['mft/q'][i18, 0, 3]:.5f} vs doc/physics.md 3.6967")
    estest.check(abs(ff["mft/q"][i18, 0, 3] - 1.2456) < 1e-4,
                 f"/mft/q^8 feedforward {ff['mft/q'][i18, 0, 3]:.5f} vs doc/physics.md 1.2456")
    # The recurrent ensemble resolves the difference: it rejects the independent-weights MFT.
    for iw, sw2 in enumerate(rec["sigma_w2"][()]):
        mean = rec["ensemble/q_mean"][iw, 0, 3, 0]
        se = np.sqrt(rec["ensemble/q_var"][iw, 0, 3, 0] / M)
        z = (mean - ff["mft/q"][iw, 0, 3]) / np.hypot(se, mean / N)
        estest.check(abs(z) > 8, f"sw2={sw2:g}: recurrent q^8 {mean:.4f} vs independent-weights "
                     f"MFT {ff['mft/q'][iw, 0, 3]:.4f}: z {z:.1f} should be far from 0")
    # Fixed-point summary: NaN with a reason where it would describe another network.
    estest.check(np.all(np.isnan(rec["mft/q_star"][()])), "recurrent leak 0.5: q_star is NaN")
    reason = rec["mft/reason"][0, 0]
    reason = reason.decode() if isinstance(reason, bytes) else str(reason)
    estest.check("DMFT" in reason, f"recurrent leak 0.5: reason says why ({reason!r})")
    for f in (rec1, ff1, rec, ff):
        f.close()
    estest.finish()


if __name__ == "__main__":
    main()
