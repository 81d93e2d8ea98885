#!/bin/bash
# Build the job-parser fuzz target with clang (libFuzzer + ASan + UBSan) and run it.
# Usage: scripts/fuzz.sh [SECONDS] [WORKDIR]   (default 60 s; CI runs it for a few seconds)
# Crashes are saved as WORKDIR/crash-*; the run fails if one is found.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
work=${2:-$(mktemp -d)}
mkdir -p "$work/corpus"
cp tests/fuzz/corpus/* "$work/corpus/"
inih_cflags=$(pkg-config --cflags inih)
inih_libs=$(pkg-config --libs inih)
clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Iinclude -Isrc/util $inih_cflags \
  tests/fuzz/fuzz_job.c src/config/config.c src/config/grid.c src/activation/*.c \
  src/util/util.c src/util/simd.c $inih_libs -lm -o "$work/fuzz_job"
cd "$work"
# A whole grid of ~10^6 values takes ~1.5 s under ASan on an idle core; 30 s leaves room for
# a loaded machine before libFuzzer calls it a hang.
./fuzz_job -max_total_time="$secs" -max_len=4096 -timeout=30 -print_final_stats=1 corpus \
  2>&1 | tail -n 12
