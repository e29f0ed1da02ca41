#!/usr/bin/env bash
# Generates a self-signed TLS certificate with Subject Alternative Names for development and testing.
#
# Usage:  scripts/generate-tls-cert.sh [cert_dir] [domain] [days]
#   cert_dir  where server.crt and server.key are written (default: ./certs)
#   domain    the certificate's name (default: lb.vantage.local); SANs: domain, localhost, 127.0.0.1, ::1
#   days      validity in days, 1–36500 (default: 365)
#
# Examples:
#   scripts/generate-tls-cert.sh                          # ./certs, lb.vantage.local, 365 days
#   scripts/generate-tls-cert.sh ./ssl lb.example.com 730 # custom directory, domain and validity
#
# Existing files are not overwritten unless FORCE=1. Then set in server.yml:
#   tls_cert_file: <cert_dir>/server.crt
#   tls_key_file: <cert_dir>/server.key
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ "$#" -gt 3 ]; then
  echo "generate-tls-cert.sh: too many arguments (expected [cert_dir] [domain] [days])" >&2
  exit 2
fi

DIR="${1:-./certs}"
DOMAIN="${2:-lb.vantage.local}"
DAYS="${3:-365}"

if ! [[ "$DAYS" =~ ^[0-9]+$ ]] || [ "$DAYS" -lt 1 ] || [ "$DAYS" -gt 36500 ]; then
  echo "generate-tls-cert.sh: days must be a whole number from 1 to 36500, got \"$DAYS\"" >&2
  exit 2
fi
if ! [[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]] || [ "${#DOMAIN}" -gt 253 ]; then
  echo "generate-tls-cert.sh: \"$DOMAIN\" is not a valid DNS name" >&2
  exit 2
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "generate-tls-cert.sh: openssl is not installed (Debian/Ubuntu: apt-get install openssl)" >&2
  exit 1
fi

CRT="$DIR/server.crt"
KEY="$DIR/server.key"
if { [ -e "$CRT" ] || [ -e "$KEY" ]; } && [ "${FORCE:-0}" != 1 ]; then
  echo "generate-tls-cert.sh: $CRT or $KEY already exists; set FORCE=1 to replace them" >&2
  exit 1
fi
mkdir -p "$DIR"

SAN="DNS:$DOMAIN,DNS:localhost,IP:127.0.0.1,IP:::1"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -days "$DAYS" -subj "/CN=$DOMAIN" \
  -addext "subjectAltName=$SAN" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$KEY.tmp" -out "$CRT.tmp" 2>/dev/null
chmod 0600 "$KEY.tmp"
chmod 0644 "$CRT.tmp"
mv "$KEY.tmp" "$KEY"
mv "$CRT.tmp" "$CRT"

echo "Wrote $CRT and $KEY (CN=$DOMAIN, SAN=$SAN, $DAYS days)."
echo "server.yml:"
echo "  tls_cert_file: $CRT"
echo "  tls_key_file: $KEY"
echo "Check it: openssl x509 -in $CRT -text -noout"
