#!/usr/bin/env bash
# Checks that the committed experiment results and the tables of README.md and docs/experiment.md are what the current code produces
# (docs/experiment.md, "Checking the figures"). Fails (exit 1) naming the file and the first differing fields.
#
#   scripts/check-results.sh [NAME ...]          the quick variants: each examples/experiment/NAME/quick/results.json
#                                                against a fresh run of its command, then the README's tables against
#                                                the results.md files (a few minutes with a release build)
#   scripts/check-results.sh --full [NAME ...]   the full runs, as each NAME/results.json records its command (hours)
#   scripts/check-results.sh --update [NAME ...] rewrite NAME/quick/ from the current code (after a change that moves
#                                                the figures on purpose; then regenerate the full results and README)
#
# XBAR: the xbar binary (default .build/release/xbar, built when missing or older than the sources).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=quick
if [ "${1:-}" = "--full" ] || [ "${1:-}" = "--update" ]; then mode=${1#--}; shift; fi

# NAME|the quick variant's arguments (each runs in seconds to about a minute).
QUICK=(
    "paper-digits|experiment run --seeds 1 --train-max 300 --test-max 100"
    "nalsm-digits|experiment run --config nalsm --seeds 1 --train-max 300 --test-max 100"
    "nalsm-stdp|experiment run --config nalsm-stdp --seeds 1 --train-max 200 --test-max 60 --learn-samples 10"
    "adaptive-ei|experiment run --config adaptive-ei --quick"
    "hd-snn|experiment run --config hd-snn --quick"
    "lsm-clip|experiment run --config lsm-clip --quick"
)

XBAR=${XBAR:-.build/release/xbar}
if [ "$XBAR" = .build/release/xbar ]; then
    command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
    if [ ! -x "$XBAR" ] || [ -n "$(find Sources Package.swift -newer "$XBAR" -print -quit)" ]; then
        echo "check-results: building the release binary" >&2
        swift build -c release --product xbar >&2
    fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

selected() {  # selected NAME: true when NAME was asked for (or nothing was)
    [ ${#NAMES[@]} -eq 0 ] && return 0
    local n
    for n in "${NAMES[@]}"; do [ "$n" = "$1" ] && return 0; done
    return 1
}
NAMES=("$@")

for entry in "${QUICK[@]}"; do
    name=${entry%%|*}
    args=${entry#*|}
    selected "$name" || continue
    dir=examples/experiment/$name
    if [ "$mode" = full ]; then
        # The recorded command, without the tool name and its --out.
        args=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["command"].split(); c=c[1:] if c[0].endswith("xbar") else c
i=c.index("--out"); del c[i:i+2]; print(" ".join(c))' "$dir/results.json")
        expected=$dir/results.json
    else
        expected=$dir/quick/results.json
    fi
    echo "check-results: $name: xbar $args" >&2
    start=$(date +%s)
    # shellcheck disable=SC2086
    if ! "$XBAR" $args --out "$tmp/$name" > "$tmp/$name.log" 2>&1; then
        echo "check-results: $name: xbar failed:" >&2
        tail -5 "$tmp/$name.log" >&2
        status=1
        continue
    fi
    echo "check-results: $name: $(( $(date +%s) - start )) s" >&2
    if [ "$mode" = update ]; then
        mkdir -p "$dir/quick"
        # The recorded command names the committed folder, as a user would run it.
        python3 -c 'import json,sys; p,tmp,out=sys.argv[1:]; t=open(p).read(); open(p,"w").write(t.replace(tmp,out))' \
            "$tmp/$name/results.json" "$tmp/$name" "$dir/quick"
        cp "$tmp/$name/results.json" "$tmp/$name/results.md" "$dir/quick/"
        echo "check-results: wrote $dir/quick/" >&2
    else
        python3 scripts/compare_results.py json "$expected" "$tmp/$name/results.json" || status=1
    fi
done
if [ "$mode" != update ]; then
    for doc in README.md docs/experiment.md; do
        python3 scripts/compare_results.py readme "$doc" . || status=1
    done
fi
exit $status
