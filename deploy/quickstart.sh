#!/usr/bin/env bash
# Quick start on embedded defaults: an SQLite database and a maildir under ./.nckh.
set -euo pipefail
cd "$(dirname "$0")/.."
export NCKH_DATA_DIR="${NCKH_DATA_DIR:-$PWD/.nckh}"
nckh=.venv/bin/nckh
$nckh init
$nckh workflow list
echo
echo "nckh is installed in .venv; data in $NCKH_DATA_DIR."
echo "Try:  export NCKH_DATA_DIR=$NCKH_DATA_DIR; .venv/bin/nckh --help"
