#!/usr/bin/env bash
# Quick start on embedded defaults: an SQLite database and a maildir under ./.nckh.
#   1. create (or upgrade) the database;
#   2. load the sample province for the current year (a second run adds nothing);
#   3. run the web app (http://127.0.0.1:8080, a sign-in link for the sample's office printed)
#      and the daemon in the foreground: its first pass sends the sample's e-mails into the
#      maildir within seconds. Ctrl-C stops both cleanly; run `make start` again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
export NCKH_DATA_DIR="${NCKH_DATA_DIR:-$PWD/.nckh}"
export NCKH_BASE_URL="${NCKH_BASE_URL:-http://127.0.0.1:${NCKH_WEB_PORT:-8080}}"
nckh=.venv/bin/nckh
$nckh init
$nckh sample load
cat <<EOT

nckh is installed in .venv; its data is in $NCKH_DATA_DIR.
In another terminal:
  export NCKH_DATA_DIR=$NCKH_DATA_DIR
  ls \$NCKH_DATA_DIR/maildir/new                      # the e-mails, one .eml file each
  .venv/bin/nckh outbox list                          # the same, from the database
  .venv/bin/nckh report compliance --year $(date +%Y)   # the office's compilation
The web app: http://127.0.0.1:${NCKH_WEB_PORT:-8080}/ — the sample's office signs in with
this one-time link (15 minutes; \`.venv/bin/nckh web-link EMAIL\` makes another):
  $($nckh web-link nghiepvuy@soyte.nckh.example)
The daemon and the web app start now (structured logs below; Ctrl-C stops both).

EOT
$nckh web --port "${NCKH_WEB_PORT:-8080}" &
web=$!
trap 'kill "$web" 2>/dev/null; wait "$web" 2>/dev/null' EXIT
$nckh daemon
