#!/usr/bin/env bash
# Print the year's compilation (nckh report compilation) to PNG, one image per sheet, as the
# office would see it on paper: LibreOffice headless prints each sheet to PDF with the workbook's
# own page setup (A4, fitted to the width; the summary portrait, the detail landscape), then
# pdftoppm renders the first page of each.
#
#   docs/screenshots/compilation-png.sh [WORKBOOK.xlsx]
#
# Without a workbook it replays the sample province's year (nckh demo, in a scratch directory)
# and makes the compilation of that year. Needs soffice (Debian: libreoffice-calc) and pdftoppm
# (poppler-utils); without pdftoppm, LibreOffice's own PNG export is used (first page only).
# Writes docs/screenshots/compilation-tong-hop.png and compilation-danh-muc.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/docs/screenshots"
year="${YEAR:-2025}"
command -v soffice >/dev/null || { echo "soffice not found: apt-get install libreoffice-calc" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ $# -ge 1 ]; then
  cp "$1" "$work/compilation.xlsx"
else
  NCKH_DATA_DIR="$work" .venv/bin/nckh demo --year "$year" --no-report >/dev/null
  NCKH_DATA_DIR="$work/demo-$year" NCKH_NOW="$year-12-10T09:00" \
    .venv/bin/nckh report compilation --year "$year" --format xlsx --output "$work/compilation.xlsx"
fi

# One workbook per sheet, so each PDF (and so each PNG) starts with that sheet's first page.
.venv/bin/python - "$work" <<'PY'
import sys
from openpyxl import load_workbook

work = sys.argv[1]
for name, stem in (("Tổng hợp", "compilation-tong-hop"), ("Danh mục", "compilation-danh-muc")):
    wb = load_workbook(f"{work}/compilation.xlsx")
    for other in [s for s in wb.sheetnames if s != name]:
        del wb[other]
    wb.save(f"{work}/{stem}.xlsx")
PY

for stem in compilation-tong-hop compilation-danh-muc; do
  # A profile of its own: a user's running LibreOffice would otherwise swallow the conversion.
  if command -v pdftoppm >/dev/null; then
    soffice -env:UserInstallation="file://$work/profile" --headless --convert-to pdf \
      --outdir "$work" "$work/$stem.xlsx" >/dev/null
    pdftoppm -png -r 110 -f 1 -l 1 -singlefile "$work/$stem.pdf" "$out/$stem"
  else
    soffice -env:UserInstallation="file://$work/profile" --headless --convert-to png \
      --outdir "$work" "$work/$stem.xlsx" >/dev/null
    cp "$work/$stem.png" "$out/$stem.png"
  fi
  echo "wrote $out/$stem.png"
done
