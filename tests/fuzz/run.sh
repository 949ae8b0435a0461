#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz: built with clang (ASan + UBSan, the
# library instrumented for coverage) in build-fuzz/, each run for SECONDS
# (default 20) on a fresh copy of its seed corpus with its dictionary.
#   tests/fuzz/run.sh [SECONDS] [HARNESS ...]
# A crash, a leak, a sanitizer report or an input slower than 1 s (-timeout)
# fails the run; inputs slower than 0.1 s are listed (-report_slow_units).
# Prints one line per harness: executions, and what it found.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
secs=${1:-20}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(csv multipart query path json text email request roster write_op)

[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build-fuzz
cd build-fuzz
[ -f Makefile ] || CC=clang "$top/configure" -q --enable-fuzzing
make -s -j2 libgroupd.a
libs=$(pkg-config --libs lmdb json-c libsodium libutf8proc libarchive)
cflags=$(pkg-config --cflags json-c)
for h in "${harnesses[@]}"; do
  clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -Wall -Wextra -Werror -I"$top/include" -I"$top/src" -I"$top/src/store" $cflags \
    -o "fuzz_$h" "$top/tests/fuzz/fuzz_$h.c" libgroupd.a $libs -lfcgi
done

status=0
for h in "${harnesses[@]}"; do
  corpus=$(mktemp -d)
  cp "$top/tests/fuzz/seeds/$h/"* "$corpus/"
  log="fuzz_$h.log"
  if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "./fuzz_$h" -max_total_time="$secs" \
      -timeout=1 -report_slow_units=0.1 -max_len=65536 -rss_limit_mb=2048 \
      -dict="$top/tests/fuzz/$h.dict" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    slow=$(grep -c "Slowest unit" "$log" || true)
    echo "fuzz_$h: ${runs:-?} executions in ${secs} s, corpus $(ls "$corpus" | wc -l) inputs, slow inputs reported: $slow, no crash"
  else
    echo "fuzz_$h: FAILED, see build-fuzz/$log:"
    grep -E "ERROR|SUMMARY|Test unit written|runtime error" "$log" | head -5
    status=1
  fi
  rm -rf "$corpus"
done
exit $status
