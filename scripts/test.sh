#!/usr/bin/env bash
# The test job: installs what the tests need when missing, checks that the committed completions
# and the embedded OpenAPI document are what the sources generate and that the module graph
# depends only inward (scripts/check-layers.py), builds with every target's
# imports checked against its declared dependencies and no warning in the project's own sources,
# runs the whole test suite, then checks the HTTP API against its OpenAPI document
# (scripts/api-check.sh).
# The first run builds everything from scratch (several minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh test
scripts/generate-docs.sh --check
# The module graph of docs/architecture.md: front ends and stores depend on the engine, not on
# each other.
swift package dump-package | scripts/check-layers.py
# SwiftPM reports an undeclared import as an error but builds on; stop here when it does.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift build --build-tests --explicit-target-dependency-import-check error 2>&1 | tee "$log"
if grep -q "without declaring it a dependency" "$log"; then
  echo "test: a target imports a module it does not declare in Package.swift (see above)" >&2
  exit 1
fi
# The project's own sources build without a warning (a fresh clone compiles every file; an
# incremental build checks the files it compiled).
if grep -E "^$PWD/(Sources|Tests)/[^:]+:[0-9]+:[0-9]+: warning:" "$log"; then
  echo "test: the build warns in the project's own sources (above); fix each warning" >&2
  exit 1
fi
swift test --skip-build "$@"
# The HTTP API against its OpenAPI document (openapi-spec-validator, schemathesis from PyPI).
scripts/api-check.sh
