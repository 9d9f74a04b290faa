#!/usr/bin/env sh
# Builds every fuzz target and runs each for the given number of seconds
# (default 60), seeding its corpus from fuzz/seeds/<target>/ and the
# committed crashers of fuzz/regressions/<target>/.
#
#   fuzz/run.sh [seconds]
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs
# cargo-fuzz if it is missing. New crashers land in
# fuzz/artifacts/<target>/; minimize one with
# `cargo +nightly fuzz tmin <target> <file>` and commit it to
# fuzz/regressions/<target>/.
set -eu

seconds="${1:-60}"
cd "$(dirname "$0")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
for target in load roundtrip ops; do
    mkdir -p "corpus/$target"
    for dir in "seeds/$target" "regressions/$target"; do
        if [ -d "$dir" ]; then
            find "$dir" -type f -exec cp {} "corpus/$target/" \;
        fi
    done
    # `ops` decodes at most 64 mutations (a few hundred bytes); without
    # these flags libFuzzer's length control keeps its inputs at a few
    # bytes for the whole run.
    extra=""
    if [ "$target" = ops ]; then
        extra="-max_len=512 -len_control=0"
    fi
    echo "== $target: ${seconds}s"
    # shellcheck disable=SC2086
    cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 $extra
done
