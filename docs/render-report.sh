#!/usr/bin/env bash
# A picture of the report: runs the demo in a throwaway THIDUA_HOME (or takes the docx
# given as $1), converts its annual report to PDF with LibreOffice and the first two
# pages to docs/report-page-1.png and docs/report-page-2.png (pdftoppm, 110 dpi).
# Installs libreoffice-writer, fonts-liberation (metric twin of Times New Roman) and
# poppler-utils with apt-get only when soffice / pdftoppm are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v soffice >/dev/null || need+=(libreoffice-writer fonts-liberation)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if ((${#need[@]})); then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docx=${1:-}
if [[ -z $docx ]]; then
  THIDUA_HOME=$work/home .venv/bin/python -m apps.demo >/dev/null
  docx=$work/home/reports/nam-2025/v1/bao-cao-nam-2025.docx
fi
soffice --headless -env:UserInstallation=file://$work/lo --convert-to pdf --outdir "$work" \
  "$docx" >/dev/null
pdf=$work/$(basename "${docx%.docx}").pdf
pdftoppm -png -r 110 -f 1 -l 2 "$pdf" "$work/page"
for n in 1 2; do
  cp "$(ls "$work"/page-*"$n".png | head -1)" "docs/report-page-$n.png"
done
echo "docs/report-page-1.png docs/report-page-2.png ($(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages/ {print $2}') pages)"
