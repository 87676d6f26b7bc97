#!/usr/bin/env bash
# Quick start on embedded defaults: an SQLite database and a maildir under ./.nckh.
#   1. create (or upgrade) the database;
#   2. load the sample province for the current year (a second run adds nothing);
#   3. run the daemon in the foreground: its first pass sends the sample's e-mails into the
#      maildir within seconds. Ctrl-C stops it cleanly; run `make start` again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
export NCKH_DATA_DIR="${NCKH_DATA_DIR:-$PWD/.nckh}"
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
The daemon starts now (structured logs below; Ctrl-C to stop).

EOT
exec $nckh daemon
