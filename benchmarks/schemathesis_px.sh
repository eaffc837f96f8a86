#!/bin/sh
# schemathesis against the sandbox's Gainsight PX API, from PX's published Swagger (an excerpt: the operations on the
# paths the sandbox serves, tests/doors/contracts/gainsight-px-swagger-excerpt.yml). Not part of the test suite:
# schemathesis is not a test dependency (pip install schemathesis into the venv first). Any 5xx fails the run.
# usage: benchmarks/schemathesis_px.sh [extra schemathesis options, e.g. --max-examples 200]
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY="$HERE/.venv/bin/python"
ST="$HERE/.venv/bin/schemathesis"
WORK=$(mktemp -d)
trap 'kill "$SANDBOX" 2>/dev/null || true; rm -rf "$WORK"' EXIT
SFWIZARD_HOME="$WORK/home" "$PY" -m sfwizard sandbox --scenario healthy > "$WORK/info.json" &
SANDBOX=$!
while [ ! -s "$WORK/info.json" ]; do sleep 0.2; done
URL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["px_api_url"].removesuffix("/v1"))' "$WORK/info.json")
KEY=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["px_api_key"])' "$WORK/info.json")
CA=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ca_cert"])' "$WORK/info.json")
cd "$WORK"  # schemathesis keeps a cache in the working folder: never in the repository
"$ST" run "$HERE/tests/doors/contracts/gainsight-px-swagger-excerpt.yml" --url "$URL" --tls-verify "$CA" \
  -H "X-APTRINSIC-API-KEY: $KEY" --checks not_a_server_error,unsupported_method,allow_header_conformance \
  --phases examples,coverage,fuzzing --report junit --report-dir "$WORK/report" "$@"
