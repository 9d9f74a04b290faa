#!/usr/bin/env bash
# Builds and runs the peer benchmark: accord's check beside cedar-policy
# and casbin on the same policy, every decision cross-checked first.
#
#   benches/peers/run.sh           full run (10 and 100 organizations)
#   benches/peers/run.sh --test    smoke run: the crate's tests (release
#                                  build, shared with the bench), then the
#                                  cross-check and every benchmark once
#                                  (10 organizations)
#
# Other arguments go to criterion (e.g. a filter: `run.sh accord`).
# ACCORD_PEERS_ORGS=10,100,1000 chooses the sizes. CARGO_TARGET_DIR is
# honoured as usual. A mismatch between the engines exits non-zero.
set -euo pipefail
cd "$(dirname "$0")"
if [[ " $* " == *" --test "* ]]; then
    cargo test --release
fi
cargo bench --bench peers -- "$@"
