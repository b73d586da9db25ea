#!/usr/bin/env bash
# One wrk load run against any OpenID provider, found through its discovery document.
# usage: bench/load.sh ISSUER token|introspect|jwks [SECONDS] [CONNECTIONS]
#   token       client_credentials grants (client_secret_basic; env CLIENT_ID, CLIENT_SECRET, SCOPE)
#   introspect  introspection of one fresh client_credentials access token, checked active first
#   jwks        GET of the jwks_uri
# Prints one JSON line (requests, rps, p50_ms, p99_ms, errors_socket, non_2xx). Needs wrk, curl,
# python3. Server and load share the box: compare two servers only by runs in the same minutes.
set -euo pipefail
issuer=${1:?usage: load.sh ISSUER token|introspect|jwks [SECONDS] [CONNECTIONS]}
mode=${2:-token}; secs=${3:-10}; conns=${4:-32}
script="$(cd "$(dirname "$0")" && pwd)/wrk/oidc.lua"
export CLIENT_ID=${CLIENT_ID:-rp} CLIENT_SECRET=${CLIENT_SECRET:-rp-secret}
meta=$(curl -fsS "$issuer/.well-known/openid-configuration")
endpoint() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$meta"; }
run() { wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$script" "$1" | tail -n 1; }
case "$mode" in
  token) MODE=token run "$(endpoint token_endpoint)" ;;
  introspect)
    auth=(-u "$CLIENT_ID:$CLIENT_SECRET")
    token=$(curl -fsS "${auth[@]}" -d grant_type=client_credentials ${SCOPE:+--data-urlencode "scope=$SCOPE"} \
      "$(endpoint token_endpoint)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    curl -fsS "${auth[@]}" --data-urlencode "token=$token" "$(endpoint introspection_endpoint)" \
      | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("active") is True else 1)' \
      || { echo "load.sh: the introspection endpoint does not call a fresh token active" >&2; exit 1; }
    TOKEN=$token MODE=introspect run "$(endpoint introspection_endpoint)" ;;
  jwks) MODE=get run "$(endpoint jwks_uri)" ;;
  *) echo "load.sh: unknown mode $mode (token, introspect, jwks)" >&2; exit 2 ;;
esac
