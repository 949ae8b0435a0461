#!/usr/bin/env bash
# The whole test suite, as a newcomer and CI run it:
#   1. unit tests (Check) built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   2. the integration suite: the real groupd behind a real nginx on 127.0.0.1.
# Builds out of tree in build-san/ and build/, so the source tree stays clean.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

deploy/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null

echo "== unit tests under ASan + UBSan"
mkdir -p build-san
(cd build-san && { [ -f Makefile ] || "$top/configure" -q --enable-sanitizers; } &&
  make -s -j2 check VERBOSE=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1)
grep -h "Checks:" build-san/tests/unit/*.log

echo "== integration tests (groupd behind nginx)"
mkdir -p build
(cd build && { [ -f Makefile ] || "$top/configure" -q; } && make -s -j2 src/groupd src/groupctl)
GROUPD_BIN_DIR="$top/build/src" python3 tests/integration/run.py
