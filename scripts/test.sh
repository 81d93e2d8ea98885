#!/bin/bash
# The second README command: install what is missing, build, and run the whole test suite.
# Prints 'N passed, N failed' and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-slurm --with-bench --with-packaging || exit 1   # Slurm, PyTorch, packaging for their suites
scripts/build.sh >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
. scripts/env.sh
meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?
$PYTHON scripts/testlog-summary.py build/meson-logs/testlog.json
summary=$?
[ $rc -eq 0 ] && [ $summary -eq 0 ]
