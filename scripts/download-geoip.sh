#!/usr/bin/env bash
# Downloads the MaxMind GeoLite2-City database used for geographic routing (geoip_db_path).
#
# Usage:  scripts/download-geoip.sh [LICENSE_KEY] [output_dir]
#         MAXMIND_LICENSE_KEY=your_key scripts/download-geoip.sh
#   LICENSE_KEY  your MaxMind licence key (or MAXMIND_LICENSE_KEY); free at
#                https://www.maxmind.com/en/geolite2/signup
#   output_dir   where GeoLite2-City.mmdb is written (default: ./data)
#
# MAXMIND_DOWNLOAD_URL overrides the download URL (a mirror); the key is appended as license_key=.
# Exit codes: 0 done, 1 download or unpack failed, 2 bad arguments.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ "$#" -gt 2 ]; then
  echo "download-geoip.sh: too many arguments (expected [LICENSE_KEY] [output_dir])" >&2
  exit 2
fi

KEY="${1:-${MAXMIND_LICENSE_KEY:-}}"
OUT="${2:-./data}"
if [ -z "$KEY" ]; then
  echo "download-geoip.sh: no licence key: pass it as the first argument or set MAXMIND_LICENSE_KEY" >&2
  echo "  (free key: https://www.maxmind.com/en/geolite2/signup)" >&2
  exit 2
fi
if ! [[ "$KEY" =~ ^[A-Za-z0-9_]{6,64}$ ]]; then
  echo "download-geoip.sh: the licence key should be 6–64 letters, digits or \"_\"; check MAXMIND_LICENSE_KEY" >&2
  exit 2
fi

BASE="${MAXMIND_DOWNLOAD_URL:-https://download.maxmind.com/app/geoip_download?edition_id=GeoLite2-City&suffix=tar.gz}"
case "$BASE" in
  *\?*) URL="$BASE&license_key=$KEY" ;;
  *) URL="$BASE?license_key=$KEY" ;;
esac
SHOWN="${URL//$KEY/****}"

mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "Downloading GeoLite2-City from ${SHOWN} ..."
if command -v curl >/dev/null 2>&1; then
  if ! curl --fail --silent --show-error --location --connect-timeout 10 --max-time 300 -o "$TMP/db.tar.gz" "$URL" 2>"$TMP/err"; then
    echo "download-geoip.sh: download failed: $(sed "s/$KEY/****/g" "$TMP/err" | head -n 3)" >&2
    echo "  Check network access to download.maxmind.com and that the licence key is valid." >&2
    exit 1
  fi
elif command -v wget >/dev/null 2>&1; then
  if ! wget --quiet --timeout=10 -O "$TMP/db.tar.gz" "$URL"; then
    echo "download-geoip.sh: download failed (wget); check network access to download.maxmind.com and the licence key" >&2
    exit 1
  fi
else
  echo "download-geoip.sh: neither curl nor wget is installed" >&2
  exit 1
fi

if ! tar -xzf "$TMP/db.tar.gz" -C "$TMP" 2>/dev/null; then
  echo "download-geoip.sh: the download is not a .tar.gz archive (an invalid licence key returns an error page)" >&2
  exit 1
fi
MMDB="$(find "$TMP" -name 'GeoLite2-City.mmdb' -type f | head -n 1)"
if [ -z "$MMDB" ]; then
  echo "download-geoip.sh: the archive contains no GeoLite2-City.mmdb" >&2
  exit 1
fi
install -m 0644 "$MMDB" "$OUT/GeoLite2-City.mmdb.tmp"
mv "$OUT/GeoLite2-City.mmdb.tmp" "$OUT/GeoLite2-City.mmdb"
echo "Wrote $OUT/GeoLite2-City.mmdb. In server.yml (and client.yml on agents):"
echo "  geoip_db_path: $OUT/GeoLite2-City.mmdb"
