#!/usr/bin/env bash
# Pictures of the reports: runs the demo in a throwaway THIDUA_HOME (or takes the docx
# given as $1), converts its annual report to PDF with LibreOffice and the first two
# pages to docs/report-page-1.png and docs/report-page-2.png (pdftoppm, 110 dpi); then
# plays 2025–2030 (tests/phase_play.py: every unit's plan, annual reports and reviews,
# collected) in another throwaway home, or takes the sơ kết docx given as $2, and makes
# docs/so-ket-page-1.png and docs/so-ket-page-2.png from the sơ kết 2027.  The demo's
# council documents (issue 22; or those of the directory given as $3): the Tờ trình's
# first page, the Quyết định's danh sách (its page 2) and the biên bản họp.  The
# province's (`--awards DIR province-`, DIR holding the documents of
# tests/test_province.py::test_the_province_commendation_documents_speak_its_tier): the
# first page of its Tờ trình and Quyết định, as docs/province-*-page-1.png.
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

render() {  # docx, name of the PNGs in docs/: docs/<name>-page-1.png and -2.png (or
  # up to page $3)
  local last=${3:-2}
  soffice --headless -env:UserInstallation=file://$work/lo --convert-to pdf --outdir "$work" \
    "$1" >/dev/null
  local pdf=$work/$(basename "${1%.docx}").pdf
  pdftoppm -png -r 110 -f 1 -l "$last" "$pdf" "$work/$2"
  for n in $(seq 1 "$last"); do  # a one-page document has no page 2
    local png
    png=$(ls "$work/$2"-*"$n".png 2>/dev/null | head -1 || true)
    if [[ -n $png ]]; then cp "$png" "docs/$2-page-$n.png"; fi
  done
  local shown="docs/$2-page-1.png"
  if ((last > 1)); then shown+=" docs/$2-page-$last.png"; fi
  echo "$shown ($(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages/ {print $2}') pages)"
}

render_awards() {  # a directory of council documents (reports/khen-thuong/<cycle>)
  render "$1/to-trinh.docx" to-trinh
  render "$1/quyet-dinh.docx" quyet-dinh
  render "$1/bien-ban-hop-1.docx" bien-ban
}
if [[ ${1:-} == --awards ]]; then  # docs/render-report.sh --awards DIR [province-]
  if [[ ${3:-} == province- ]]; then
    render "$2/to-trinh.docx" province-to-trinh 1
    render "$2/quyet-dinh.docx" province-quyet-dinh 1
  else
    render_awards "$2"
  fi
  exit
fi

docx=${1:-}
awards=${3:-$work/home/reports/khen-thuong/nam-2025}
if [[ -z $docx ]]; then
  THIDUA_HOME=$work/home .venv/bin/python -m apps.demo >/dev/null
  docx=$work/home/reports/nam-2025/v1/bao-cao-nam-2025.docx
fi
render "$docx" report
so_ket=${2:-}
if [[ -z $so_ket ]]; then
  THIDUA_HOME=$work/play PYTHONPATH=tests .venv/bin/python -m phase_play >/dev/null
  so_ket=$work/play/reports/so-ket-2027/v1/bao-cao-so-ket-2027.docx
fi
render "$so_ket" so-ket
if [[ -d $awards ]]; then render_awards "$awards"; fi
