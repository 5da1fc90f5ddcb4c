#!/usr/bin/env bash
# The test job: installs what the tests need when missing, checks that the committed completions
# and man pages are what the command definitions generate, then runs the whole test suite.
# The first run builds everything from scratch (several minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh test
scripts/generate-docs.sh --check
swift test "$@"
