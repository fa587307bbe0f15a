#!/usr/bin/env bash
# Usage: deploy/backup.sh DIR — a consistent, compressed dump of the database RangerSync uses,
# keeping the newest 14. Run from the project folder (cron: `cd /opt/rangersync && deploy/backup.sh /backups`).
set -euo pipefail
dir=${1:?usage: deploy/backup.sh DIR}
mkdir -p "$dir"
url=$(.venv/bin/rangersync db url | sed 's/^postgresql+psycopg:/postgresql:/')
file="$dir/rangersync-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$file.partial" "$url"
mv "$file.partial" "$file"
ls -1t "$dir"/rangersync-*.dump | tail -n +15 | xargs -r rm --
echo "rangersync: backup written to $file"
