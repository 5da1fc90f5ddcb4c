#!/usr/bin/env bash
# Sends CASES seeded random variations of request framing (default 10,000; seed SEED, default
# today's date as YYYYMMDD) through routergw and through HAProxy to backends that parse RFC 9112
# framing, and fails on any desynchronization or on routergw answering more than HAProxy
# without refusing (Tests/RouterGatewayTests/SmugglingTests.swift). A failure names its case and
# seed; the same seed replays the same cases.
#   scripts/fuzz-gateway.sh [CASES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-10000}"
seed="${2:-$(date +%Y%m%d)}"
case "$cases$seed" in *[!0-9]*) echo "usage: $0 [CASES] [SEED]   (both whole numbers)" >&2; exit 64 ;; esac
scripts/install-packages.sh test
echo "fuzz-gateway: $cases cases, seed $seed" >&2
swift build --build-tests
ROUTERGW_FUZZ_CASES="$cases" ROUTERGW_FUZZ_SEED="$seed" \
  swift test --skip-build --filter 'SmugglingTests/seededVariationsOfFramingFieldsNeverDesynchronize'
