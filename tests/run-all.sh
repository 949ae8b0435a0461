#!/usr/bin/env bash
# The whole test suite, as a newcomer and CI run it, on one build made with
# AddressSanitizer + UndefinedBehaviorSanitizer (out of tree, in build-san/):
#   0. every C file formatted as .clang-format says (clang-format --dry-run);
#   1. the Check unit tests, fault injection included (every write under every
#      failing store write call, tests/unit/check_faults.c);
#   2. the integration suite: that same groupd behind a real nginx (and Apache
#      with mod_fcgid) on 127.0.0.1, so a memory error in the server fails a test,
#      every JSON answer validated against docs/openapi.json;
#   3. the libFuzzer harnesses (clang, in build-fuzz/), 20 s each
#      (FUZZ_SECONDS overrides it).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

deploy/install-deps.sh --tests
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build-san
cd build-san
[ -f Makefile ] || "$top/configure" -q --enable-sanitizers --enable-fault-injection

echo "== format: every C file as .clang-format says"
(cd "$top" && git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror)

echo "== unit tests (Check) under ASan + UBSan"
make -s -j2 check VERBOSE=1 UBSAN_OPTIONS=print_stacktrace=1
grep -h "Checks:" tests/unit/*.log

echo "== integration tests: groupd (ASan + UBSan) behind nginx and Apache"
# The docs page and the OpenAPI linter, at the versions docs/site/package-lock.json pins.
npm ci --prefix "$top/docs/site" --no-audit --no-fund --loglevel=error
make -s -j2 src/groupd src/groupctl docs-site
cd "$top"
# Debian's python3, for Debian's python3-jsonschema (every answer is checked
# against docs/openapi.json).
GROUPD_BIN_DIR="$top/build-san/src" UBSAN_OPTIONS=print_stacktrace=1 /usr/bin/python3 tests/integration/run.py

echo "== fuzzing: each libFuzzer harness for ${FUZZ_SECONDS:-20} s"
tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
