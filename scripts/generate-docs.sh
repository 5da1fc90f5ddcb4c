#!/usr/bin/env bash
# Regenerates completions/ and man/ from the command definitions (swift-argument-parser's
# --generate-completion-script and its GenerateManual tool, with a pinned date so that the
# output only changes when the definitions do). With --check, generates into a temporary
# folder and fails when the committed files differ.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bump when the commands change meaningfully; a fixed date keeps regeneration reproducible.
DOC_DATE=2026-11-26

check=false
[ "${1:-}" = "--check" ] && check=true

swift build --product routerctl >/dev/null
swift build --product routerd >/dev/null
bin="$(swift build --show-bin-path)"
# The plugin builds generate-manual-tool; --help does only that.
swift package generate-manual --help >/dev/null 2>&1 || true
tool="$bin/generate-manual-tool"
[ -x "$tool" ] || { echo "generate-docs: $tool was not built" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/completions" "$out/man"
for shell in bash zsh fish; do
  # No daemon socket in the environment: the scripts must not depend on where they were made.
  env -u ROUTER_SOCKET "$bin/routerctl" --generate-completion-script "$shell" > "$out/completions/routerctl.$shell"
done
env -u ROUTER_SOCKET -u XDG_RUNTIME_DIR "$tool" "$bin/routerctl" --date "$DOC_DATE" --section 1 -o "$out/man"
env -u ROUTER_SOCKET -u XDG_RUNTIME_DIR "$tool" "$bin/routerd" --date "$DOC_DATE" --section 8 -o "$out/man"

if $check; then
  if ! diff -r completions "$out/completions" >/dev/null || ! diff -r man "$out/man" >/dev/null; then
    diff -ru completions "$out/completions" || true
    diff -ru man "$out/man" || true
    echo "generate-docs: completions/ or man/ differ from what the code generates; run scripts/generate-docs.sh and commit" >&2
    exit 1
  fi
  echo "generate-docs: completions/ and man/ are up to date"
else
  rm -rf completions man
  cp -r "$out/completions" completions
  cp -r "$out/man" man
  echo "generate-docs: wrote completions/ and man/"
fi
