#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (espeak-ng, postgresql, chromium, redis-server), only when they
# are missing.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the dashboard's browser tests (Playwright drives it)
command -v redis-server >/dev/null || missing+=(redis-server)  # the jobs' production broker, in the job tests
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
