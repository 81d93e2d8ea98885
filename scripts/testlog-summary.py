#!/usr/bin/python3
"""Count meson's test results (testlog.json: one JSON object per line) for CI."""
import json
import sys

passed = failed = skipped = 0
failures = []
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        t = json.loads(line)
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
            failures.append(f"SKIPPED {t.get('name')}")
        else:
            failed += 1
            failures.append(f"{r} {t.get('name')}")
for f in failures:
    print(f)
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
