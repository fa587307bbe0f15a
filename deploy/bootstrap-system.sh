#!/usr/bin/env bash
# Installs the Debian 12 packages RangerSync needs, and only those that are missing.
# Runs as root, or as a normal user through sudo. Fast (no apt at all) when everything is present.
set -euo pipefail

PG_MAJOR=15
missing=()

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need_package() { installed "$1" || missing+=("$1"); }

need_package "postgresql-$PG_MAJOR"
need_package "postgresql-$PG_MAJOR-postgis-3"
need_package "postgresql-$PG_MAJOR-postgis-3-scripts"
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# python3 -m venv needs ensurepip: Debian's python3-venv, or a Python that carries its own.
python3 -c 'import ensurepip, venv' 2>/dev/null || need_package python3-venv
# Backups with point-in-time recovery, and connection pooling (issue 18; the tests use both).
need_package pgbackrest
need_package pgbouncer
# Headless Chromium drives the dashboard in the tests (Playwright uses it; it downloads nothing).
need_package chromium
# A Unicode font for PDF documents (the monthly park report); reportlab's own Vera is the fallback.
need_package fonts-dejavu-core
# Node.js and npm install the front-end libraries; from Debian or from elsewhere, either will do.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "rangersync: these Debian packages are missing and neither root nor sudo is available:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi

echo "rangersync: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# The Debian package starts its own 'main' cluster on 5432 where it can; RangerSync runs its own
# cluster under ./var/ on another port and does not use it. pgbouncer's Debian service is left
# as installed (stopped until configured); RangerSync's tests start their own pgbouncer.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
