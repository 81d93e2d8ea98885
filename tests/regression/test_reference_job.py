#!/usr/bin/python3
"""jobs/reference.ini documents every key (the list printed by `edgesweep keys`), is valid
(`edgesweep check` accepts it), and runs; jobs/demo.ini is valid too."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    ref = os.path.join(root, "jobs", "reference.ini")
    keys = estest.run(["keys"]).stdout
    declared, section = set(), None
    for line in keys.splitlines():
        m = re.match(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"(\w+) =", line)
        if m:
            declared.add((section, m.group(1)))
    estest.check(len(declared) >= 16, f"only {len(declared)} keys printed")
    present, section = set(), None
    for line in open(ref):
        m = re.match(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"(\w+) *=", line)
        if m:
            present.add((section, m.group(1)))
    estest.check(declared == present, f"reference.ini keys differ: missing {declared - present}, "
                 f"extra {present - declared}")
    for job in (ref, os.path.join(root, "jobs", "demo.ini")):
        p = estest.run(["check", job])
        estest.check("points" in p.stdout and "memory" in p.stdout, f"check output: {p.stdout}")
    d = estest.tmpdir()
    estest.run(["run", ref, "-o", os.path.join(d, "ref.h5"), "--quiet"], cwd=d)
    estest.check(os.path.exists(os.path.join(d, "ref.h5")), "reference job did not run")
    print(f"{len(declared)} keys documented")
    estest.finish()


if __name__ == "__main__":
    main()
