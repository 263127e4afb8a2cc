#!/bin/sh
# A self-signed certificate for id.localhost, for deploy/compose.yaml.
# Use a real certificate (or your CA's) anywhere but a laptop.
set -eu
cd "$(dirname "$0")"
mkdir -p tls
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=id.localhost" \
  -addext "subjectAltName=DNS:id.localhost" -keyout tls/tls.key -out tls/tls.crt
chmod 644 tls/tls.key tls/tls.crt   # nginx's workers read them
echo "deploy/compose/tls/tls.crt: trust it (or curl --cacert) to call https://id.localhost:8443"
