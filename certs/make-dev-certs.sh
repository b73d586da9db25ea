#!/usr/bin/env bash
# Creates a development CA and a localhost server certificate signed by it, for running
# Pforte with TLS on this machine. DEVELOPMENT ONLY: the private keys are committed to the
# repository and therefore public.
#
#   certs/make-dev-certs.sh            # writes into the folder of this script
#   certs/make-dev-certs.sh OUT_DIR    # writes elsewhere
#
# Output: dev-ca.pem, dev-ca-key.pem, localhost.pem, localhost-key.pem
set -euo pipefail

out="${1:-$(cd "$(dirname "$0")" && pwd)}"
mkdir -p "$out"
cd "$out"
days=825
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 1. The development CA (ECDSA P-256).
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/ca.key" -out dev-ca-key.pem
openssl req -x509 -new -sha256 -days "$days" \
    -key dev-ca-key.pem \
    -subj "/O=Pforte development/CN=Pforte development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out dev-ca.pem

# 2. The localhost server key (ECDSA P-256, PKCS#8) and certificate.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/localhost.key"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/localhost.key" -out localhost-key.pem
openssl req -new -sha256 -key localhost-key.pem -subj "/O=Pforte development/CN=localhost" \
    -out "$tmp/localhost.csr"
cat > "$tmp/ext.cnf" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
openssl x509 -req -sha256 -days "$days" \
    -in "$tmp/localhost.csr" \
    -CA dev-ca.pem -CAkey dev-ca-key.pem -CAcreateserial -CAserial "$tmp/dev-ca.srl" \
    -extfile "$tmp/ext.cnf" \
    -out localhost.pem

chmod 644 dev-ca.pem localhost.pem dev-ca-key.pem localhost-key.pem
openssl verify -CAfile dev-ca.pem localhost.pem
echo "wrote $out/{dev-ca.pem,dev-ca-key.pem,localhost.pem,localhost-key.pem} (valid $days days)"
