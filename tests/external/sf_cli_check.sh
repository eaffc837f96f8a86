#!/usr/bin/env bash
# Hold the sandbox against Salesforce's own CLI. Usage: sf_cli_check.sh <path to sf> '<sandbox JSON line>'
set -euo pipefail
sf=$1; info=$2
get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$info" "$1"; }
home=$(mktemp -d)
export HOME=$home NODE_EXTRA_CA_CERTS=$(get ca_cert) SF_USE_GENERIC_UNIX_KEYCHAIN=true SF_DISABLE_TELEMETRY=true \
  SF_AUTOUPDATE_DISABLE=true SF_SKIP_NEW_VERSION_CHECK=true
token=$(curl -s --cacert "$(get ca_cert)" "$(get login_url)/services/oauth2/token" \
  -d grant_type=password -d client_id="$(get client_id)" -d client_secret="$(get client_secret)" \
  --data-urlencode username="$(get username)" --data-urlencode password="$(get password)" |
  python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])")
SF_ACCESS_TOKEN=$token "$sf" org login access-token --instance-url "$(get instance_url)" --no-prompt --alias sbx >/dev/null
"$sf" org display --target-org sbx --json | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print('display', r['id'], r['username'])"
"$sf" data query --target-org sbx --query "SELECT Id, Name, Owner.Name FROM Account LIMIT 3" --json |
  python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print('query', r['totalSize'], r['records'][0]['Owner']['Name'])"
"$sf" data query --target-org sbx --query "SELECT AppName, User.Username FROM OauthToken" --json |
  python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print('oauth tokens', r['totalSize'])"
"$sf" sobject describe --target-org sbx --sobject Account --json |
  python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print('describe', len(r['fields']), 'fields')"
"$sf" org list limits --target-org sbx --json |
  python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print('limits', next(x for x in r if x['name']=='DailyApiRequests'))"
rm -rf "$home"
