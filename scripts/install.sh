#!/usr/bin/env bash
# Installs Vantage: the built package, the `vantage` command, systemd units, the config directory (0700, files
# 0600) and the data directory (0700), and creates the `vantage` system user. Prints the systemctl commands.
#
# Usage:  sudo scripts/install.sh [--no-user] [--no-deps] [--force-config]
#
# Variables (DESTDIR/PREFIX style, as in `make install`):
#   DESTDIR      staging root prepended to every path (default: empty = the real system). With DESTDIR set, no
#                user is created and no ownership is changed: the tree is meant to be packaged.
#   PREFIX       /usr/local      → $PREFIX/lib/vantage (package) and $PREFIX/bin/vantage (command)
#   SYSCONFDIR   /etc/vantage    → server.yml, client.yml
#   DATADIR      /var/lib/vantage → database and agent state
#   UNITDIR      /etc/systemd/system
#   VANTAGE_USER vantage
#
# Run `npm run build` first; the script refuses to install without dist/.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

CREATE_USER=1
COPY_DEPS=1
FORCE_CONFIG=0
for arg in "$@"; do
  case "$arg" in
    --no-user) CREATE_USER=0 ;;
    --no-deps) COPY_DEPS=0 ;;  # do not copy node_modules (a previous install's are kept)
    --force-config) FORCE_CONFIG=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument \"$arg\" (see --help)" >&2; exit 2 ;;
  esac
done

DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/usr/local}"
SYSCONFDIR="${SYSCONFDIR:-/etc/vantage}"
DATADIR="${DATADIR:-/var/lib/vantage}"
UNITDIR="${UNITDIR:-/etc/systemd/system}"
VANTAGE_USER="${VANTAGE_USER:-vantage}"

for v in PREFIX SYSCONFDIR DATADIR UNITDIR; do
  case "${!v}" in
    /*) ;;
    *) echo "install.sh: $v must be an absolute path, got \"${!v}\"" >&2; exit 2 ;;
  esac
done
if ! [[ "$VANTAGE_USER" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]]; then
  echo "install.sh: VANTAGE_USER \"$VANTAGE_USER\" is not a valid user name" >&2
  exit 2
fi

SRC="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$SRC/dist/cli/main.js" ]; then
  echo "install.sh: $SRC/dist/cli/main.js is missing; run \`npm run build\` first" >&2
  exit 1
fi
if [ "$COPY_DEPS" = 1 ] && [ ! -d "$SRC/node_modules" ]; then
  echo "install.sh: $SRC/node_modules is missing; run \`npm ci\` first (or pass --no-deps)" >&2
  exit 1
fi

LIBDIR="$PREFIX/lib/vantage"
ROOT_LIB="$DESTDIR$LIBDIR"
step() { printf '  %s\n' "$*"; }

echo "Installing Vantage into ${DESTDIR:-/}"

# 1. The package: built code, package metadata, production dependencies, docs and examples.
rm -rf "$ROOT_LIB.new"
install -d -m 0755 "$ROOT_LIB.new"
cp -a "$SRC/dist" "$SRC/package.json" "$ROOT_LIB.new/"
if [ -f "$SRC/package-lock.json" ]; then cp -a "$SRC/package-lock.json" "$ROOT_LIB.new/"; fi
install -d -m 0755 "$ROOT_LIB.new/docs" "$ROOT_LIB.new/deploy"
if [ -d "$SRC/docs" ]; then cp -a "$SRC/docs/." "$ROOT_LIB.new/docs/"; fi
cp -a "$SRC/deploy/." "$ROOT_LIB.new/deploy/"
if [ "$COPY_DEPS" = 1 ]; then
  cp -a "$SRC/node_modules" "$ROOT_LIB.new/"
  # Drop devDependencies (offline: this only deletes).
  (cd "$ROOT_LIB.new" && npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund >/dev/null 2>&1) ||
    echo "  warning: npm prune failed; devDependencies were left in $LIBDIR/node_modules" >&2
fi
if [ "$COPY_DEPS" = 0 ] && [ -d "$ROOT_LIB/node_modules" ]; then
  # --no-deps: keep the dependencies of the previous install.
  mv "$ROOT_LIB/node_modules" "$ROOT_LIB.new/node_modules"
fi
rm -rf "$ROOT_LIB.old"
if [ -e "$ROOT_LIB" ]; then mv "$ROOT_LIB" "$ROOT_LIB.old"; fi
mv "$ROOT_LIB.new" "$ROOT_LIB"
rm -rf "$ROOT_LIB.old"
step "package        $LIBDIR"

# 2. The command.
install -d -m 0755 "$DESTDIR$PREFIX/bin"
cat >"$DESTDIR$PREFIX/bin/vantage" <<EOF
#!/bin/sh
exec /usr/bin/env node "$LIBDIR/dist/cli/main.js" "\$@"
EOF
chmod 0755 "$DESTDIR$PREFIX/bin/vantage"
step "command        $PREFIX/bin/vantage"

# 3. The user (real installs only).
OWN=0
if [ -z "$DESTDIR" ] && [ "$CREATE_USER" = 1 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: creating the $VANTAGE_USER user needs root; rerun with sudo, or pass --no-user" >&2
    exit 1
  fi
  if ! getent passwd "$VANTAGE_USER" >/dev/null; then
    useradd --system --home-dir "$DATADIR" --no-create-home --shell /usr/sbin/nologin --user-group "$VANTAGE_USER"
    step "user           $VANTAGE_USER (created)"
  else
    step "user           $VANTAGE_USER (exists)"
  fi
  OWN=1
fi

# 4. Config and data directories: only the service user may read them (keys live in the config).
install -d -m 0700 "$DESTDIR$SYSCONFDIR" "$DESTDIR$DATADIR"
write_config() { # name, sed expression
  local target="$DESTDIR$SYSCONFDIR/$1"
  if [ -e "$target" ] && [ "$FORCE_CONFIG" = 0 ]; then
    step "config         $SYSCONFDIR/$1 (kept; --force-config replaces it)"
  else
    sed -e "$2" "$SRC/deploy/${1%.yml}.example.yml" >"$target.tmp"
    chmod 0600 "$target.tmp"
    mv "$target.tmp" "$target"
    step "config         $SYSCONFDIR/$1"
  fi
  chmod 0600 "$target"
}
write_config server.yml "s#^database: .*#database: $DATADIR/vantage.db#"
write_config client.yml "s#^state_dir: .*#state_dir: $DATADIR#"
step "data           $DATADIR"
if [ "$OWN" = 1 ]; then
  chown -R "$VANTAGE_USER:$VANTAGE_USER" "$SYSCONFDIR" "$DATADIR"
fi

# 5. systemd units, with the chosen paths.
install -d -m 0755 "$DESTDIR$UNITDIR"
for unit in vantage-server.service vantage-agent.service; do
  sed -e "s#/usr/local/bin/vantage#$PREFIX/bin/vantage#g" \
      -e "s#/usr/local/lib/vantage#$LIBDIR#g" \
      -e "s#/etc/vantage#$SYSCONFDIR#g" \
      -e "s#/var/lib/vantage#$DATADIR#g" \
      -e "s#^User=vantage#User=$VANTAGE_USER#" \
      -e "s#^Group=vantage#Group=$VANTAGE_USER#" \
      "$SRC/deploy/systemd/$unit" >"$DESTDIR$UNITDIR/$unit"
  chmod 0644 "$DESTDIR$UNITDIR/$unit"
  step "unit           $UNITDIR/$unit"
done

cat <<EOF

Done. Next steps:
  edit $SYSCONFDIR/server.yml (set server_key, tiers, whitelisted_ips) and $SYSCONFDIR/client.yml (server_url, server_key)
  sudo systemctl daemon-reload
  sudo systemctl enable --now vantage-server     # on the load balancer
  sudo systemctl enable --now vantage-agent      # on each backend
  sudo systemctl status vantage-server
  sudo systemctl reload vantage-server           # apply server.yml changes (SIGHUP)
  journalctl -u vantage-server -f
EOF
