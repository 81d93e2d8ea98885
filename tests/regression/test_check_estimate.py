#!/usr/bin/python3
"""`check` plans as the run does: for jobs of several shapes (networks_per_task set, 0 with
few points so the count depends on the ranks, recurrent, a deep scan) on 1 and 2 ranks, the
task count `check` prints equals the rows of the run's ledger (run/task_point), and its output
size is within 10% of the file the run writes. Ranks: 1 and 2."""
import os
import re
import sys

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402


def main():
    jobs = {
        "split": ({"grid": {"sigma_w2": "1, 1.5, 2", "sigma_b2": "0, 0.1", "depth": "range(1, 21)",
                            "width": "16, 32"},
                   "ensemble": {"networks": 16, "networks_per_task": 5}}, 2),
        "few_points": ({"grid": {"sigma_w2": "1.5", "sigma_b2": "0.1", "depth": "1, 4, 9",
                                 "width": "24"},
                        "ensemble": {"networks": 64}}, 2),
        "recurrent": ({"network": {"architecture": "recurrent", "leak": 0.5, "activation": "tanh"},
                       "grid": {"sigma_w2": "1.2, 2", "sigma_b2": "0.05", "depth": "1, 5, 10",
                                "width": "32"},
                       "ensemble": {"networks": 8, "networks_per_task": 3}}, 1),
        "scan": ({"grid": {"sigma_w2": "linspace(0.5, 3, 12)", "sigma_b2": "linspace(0, 0.3, 6)",
                           "depth": "range(1, 61)", "width": "8, 16"},
                  "ensemble": {"networks": 2}}, 2),
    }
    d = estest.tmpdir()
    for name, (sections, ranks) in jobs.items():
        job = {"run": {"name": name, "seed": 3}, "network": {"activation": "tanh"}}
        for sec, kv in sections.items():
            job.setdefault(sec, {}).update(kv)
        path = estest.write_job(os.path.join(d, name + ".ini"), job)
        out = os.path.join(d, name + ".h5")
        text = estest.run(["check", path], ranks=ranks, cwd=d).stdout
        m_tasks = re.search(r"^tasks +(\d+) of", text, re.M)
        m_size = re.search(r"^output +.*, ~([0-9.e+]+) MiB", text, re.M)
        if not estest.check(m_tasks and m_size, f"{name}: check printed no tasks/output:\n{text}"):
            continue
        est_tasks, est_bytes = int(m_tasks.group(1)), float(m_size.group(1)) * 1048576
        estest.run(["run", path, "-o", out, "--quiet"], ranks=ranks, cwd=d)
        with h5py.File(out, "r") as f:
            ledger = f["run/task_point"].shape[0]
        size = os.path.getsize(out)
        print(f"{name} on {ranks} rank(s): tasks check {est_tasks} run {ledger}; "
              f"size check {est_bytes:.0f} file {size} ({est_bytes / size - 1:+.1%})")
        estest.check(est_tasks == ledger, f"{name}: check says {est_tasks} tasks, the run had {ledger}")
        estest.check(abs(est_bytes / size - 1) <= 0.10,
                     f"{name}: check says {est_bytes:.0f} bytes, the file has {size}")
    estest.finish()


if __name__ == "__main__":
    main()
