#!/usr/bin/env bash
# The HTTP API against its OpenAPI document (docs/openapi.json): validates the document
# (openapi-spec-validator), then starts the built routerd with --http on a free port and runs
# schemathesis against it for a bounded number of generated requests per operation. Both tools
# come from PyPI into .build/api-venv (pinned; made once). GET /watch is left out: it streams
# until the client goes, which a request generator cannot end. schemathesis's check that every
# schema-valid request is accepted is left out too: a key's rules (labels, IDNA, reserved names)
# are more than a JSON schema says, and the API refuses such keys with 422 as documented.
#   scripts/api-check.sh [EXAMPLES]   (default 25 per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-25}"
venv=.build/api-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"
fi
"$venv/bin/openapi-spec-validator" docs/openapi.json

bin="$(swift build --show-bin-path)"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'ops %s admin\n' "$token" > "$work/tokens"
chmod 600 "$work/tokens"
"$bin/routerd" --socket "$work/r.sock" --http "$port" --http-tokens "$work/tokens" --domain example.com \
  --log-level warning 2>"$work/routerd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "api-check: routerd did not start:" >&2; cat "$work/routerd.log" >&2; exit 1; }
  sleep 0.1
done
"$venv/bin/schemathesis" run docs/openapi.json --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" --max-examples "$examples" --generation-deterministic \
  --exclude-operation-id watch --exclude-checks positive_data_acceptance --no-color
