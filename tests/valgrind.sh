#!/usr/bin/env bash
# valgrind memcheck of groupd through the integration suite (run by hand; the
# README test command runs the suite under ASan + UBSan instead).
#   tests/valgrind.sh [MODULE-PATTERN]     default: the functional modules
# Uses the optimised build in build/ (valgrind and ASan do not mix), every
# groupd process (master, workers, fd-0) under memcheck, one log each; prints
# the suite's result, then the errors and definitely lost bytes over all logs.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
[ -x build/src/groupd ] || { echo "build/ first (deploy/quickstart.sh makes it)"; exit 2; }
logs=$(mktemp -d)
pattern=${1:-"test_[cegs]*.py"}
set +e
GROUPD_BIN_DIR="$top/build/src" GROUPD_VALGRIND="$logs" python3 tests/integration/run.py "$pattern"
suite=$?
set -e
n=$(ls "$logs" | wc -l)
errors=$(grep -h "ERROR SUMMARY" "$logs"/* | awk '{s += $4} END {print s + 0}')
lost=$(grep -h "definitely lost:" "$logs"/* | awk '{gsub(",", "", $4); s += $4} END {print s + 0}')
echo "valgrind: $n groupd processes, $errors errors, $lost bytes definitely lost (logs in $logs)"
[ "$suite" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$lost" -eq 0 ]
