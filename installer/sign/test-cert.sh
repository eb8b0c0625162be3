#!/usr/bin/env bash
# Makes a throw-away code-signing CA and certificate for CI and tests:
#   test-cert.sh DIR   ->  DIR/ca.pem (trust anchor for osslsigncode verify -CAfile),
#                          DIR/signer.p12 (key + chain), DIR/password,
#                          DIR/signer.pem + DIR/signer.key (the same as PEM)
# and prints the SCANBOX_SIGN_* lines to eval. Nothing it makes is ever
# committed: DIR should be a temporary directory, and the CA lives only as
# long as it does.
set -euo pipefail
dir=${1:?usage: test-cert.sh DIR}
command -v openssl >/dev/null || { echo "test-cert.sh: openssl is missing (apt-get install openssl)" >&2; exit 2; }
mkdir -p "$dir"
umask 077
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ScanBox CI throw-away CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=ScanBox CI test signer" -keyout signer.key -out signer.csr 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > signer.ext
openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile signer.ext -out signer.crt 2>/dev/null
cat signer.crt ca.pem > signer.pem
openssl rand -hex 16 > password
openssl pkcs12 -export -inkey signer.key -in signer.crt -certfile ca.pem -passout file:password -out signer.p12
rm -f signer.csr signer.ext ca.key ca.srl # the CA key is not needed again: nothing else can be signed with it
abs=$(pwd)
echo "export SCANBOX_SIGN_PKCS12=$abs/signer.p12"
echo "export SCANBOX_SIGN_PASSWORD=\$(cat $abs/password)"
echo "export SCANBOX_VERIFY_CA=$abs/ca.pem"
