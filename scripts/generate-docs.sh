#!/usr/bin/env bash
# Regenerates completions/ from the command definitions (swift-argument-parser's
# --generate-completion-script). With --check, generates into a temporary folder and fails when
# the committed files differ. The man pages in man/ are written by hand in mdoc(7);
# RouterctlTests' GeneratedDocsTests check them against the command definitions.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true

swift build --product routerctl >/dev/null
bin="$(swift build --show-bin-path)"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/completions"
for shell in bash zsh fish; do
  # No daemon socket in the environment: the scripts must not depend on where they were made.
  env -u ROUTER_SOCKET "$bin/routerctl" --generate-completion-script "$shell" > "$out/completions/routerctl.$shell"
done

if $check; then
  if ! diff -r completions "$out/completions" >/dev/null; then
    diff -ru completions "$out/completions" || true
    echo "generate-docs: completions/ differ from what the code generates; run scripts/generate-docs.sh and commit" >&2
    exit 1
  fi
  echo "generate-docs: completions/ are up to date"
else
  cp "$out/completions/"* completions/
  echo "generate-docs: wrote completions/"
fi
