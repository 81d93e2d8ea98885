#!/bin/bash
# Build everything with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and
# run the whole suite there. Every address and undefined-behaviour error fails a test. Leak
# checking covers the serial unit tests; in the MPI binary Open MPI dlcloses its plugins at
# MPI_Finalize, so their start-up allocations show as leaks from "<unknown module>" that no
# suppression can name: leak detection is off for the tests that run the binary.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined \
  -Db_lundef=false --buildtype=debugoptimized >/dev/null
ninja -C build-asan >/dev/null || exit 1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
ASAN_OPTIONS=detect_leaks=1 meson test -C build-asan --num-processes 2 --suite unit "$@"
rc1=$?
cp build-asan/meson-logs/testlog.json build-asan/meson-logs/testlog-unit.json
ASAN_OPTIONS=detect_leaks=0 meson test -C build-asan --num-processes 2 --no-suite unit \
  --no-suite fuzz --timeout-multiplier 4 "$@"
rc2=$?
cat build-asan/meson-logs/testlog-unit.json >> build-asan/meson-logs/testlog.json
/usr/bin/python3 scripts/testlog-summary.py build-asan/meson-logs/testlog.json
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
