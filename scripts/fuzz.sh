#!/usr/bin/env bash
# In-process fuzzing of one reader with libFuzzer (docs/fuzzing.md).
#   scripts/fuzz.sh PARSER SECONDS [libFuzzer options...]     PARSER: graph, ir, target, sweep, xev, nmnist, nir, or all
# Builds xbar-fuzz with -sanitize=fuzzer into .build-fuzz (once), then fuzzes from the seed corpus in
# Tests/Fixtures/fuzz/PARSER; new inputs go to .build-fuzz/corpus/PARSER, crashes to .build-fuzz/crashes/.
# Exit status non-zero when libFuzzer finds a crash, a timeout (-timeout=10 s per input) or a leak of more than -rss_limit_mb.
set -euo pipefail
cd "$(dirname "$0")/.."
parser=${1:?usage: scripts/fuzz.sh PARSER SECONDS [libFuzzer options]}
seconds=${2:?usage: scripts/fuzz.sh PARSER SECONDS [libFuzzer options]}
shift 2
swift build -c release --build-path .build-fuzz --product xbar-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld -Xcc -DXBAR_LIBFUZZER >&2
bin=.build-fuzz/release/xbar-fuzz
parsers=$parser
[ "$parser" = all ] && parsers="graph ir target sweep xev nmnist nir"
mkdir -p .build-fuzz/crashes
for p in $parsers; do
    mkdir -p ".build-fuzz/corpus/$p"
    echo "fuzzing $p for $seconds s" >&2
    # The Swift runtime's own crash reporter is off, so that libFuzzer's handler records the input of a trap.
    SWIFT_BACKTRACE=enable=no "$bin" "$p" ".build-fuzz/corpus/$p" "Tests/Fixtures/fuzz/$p" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=4096 -artifact_prefix=".build-fuzz/crashes/$p-" -print_final_stats=1 "$@" 2>&1 |
        grep -E "^(Done [0-9]+ runs|stat::average_exec_per_sec|==[0-9]+== ERROR|.*Fatal error|SUMMARY|.*Test unit written)" >&2 || true
    # libFuzzer's exit status is lost in the pipe: a written artifact is the verdict.
    if ls ".build-fuzz/crashes/$p-"* >/dev/null 2>&1; then
        echo "fuzz: $p: libFuzzer wrote $(ls .build-fuzz/crashes/$p-* | head -3 | tr '\n' ' ')" >&2
        exit 1
    fi
done
