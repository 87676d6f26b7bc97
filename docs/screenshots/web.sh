#!/usr/bin/env bash
# Regenerate the web app's screenshots (the unit's page and the intake register, desktop and
# phone width) by running the browser test that walks the listening path in Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
NCKH_SCREENSHOTS="$PWD/docs/screenshots" .venv/bin/pytest -q -p no:xdist \
  tests/browser/test_listening_path.py
