#!/usr/bin/env bash
# Pictures of what a unit reads (issue 13):
# - docs/huong-dan-sheet.png: the "Hướng dẫn" sheet of a generated template (CQ-YT,
#   nam-2025) as LibreOffice prints it (soffice → PDF, first page, pdftoppm 80 dpi);
# - docs/ack-email.png: the demo's acknowledgment of CQ-YT's first nam-2025 report (one
#   error), its HTML part rendered by headless Chromium under the headers a mail
#   program shows.
# Runs the demo in a throwaway THIDUA_HOME, or takes a demo home given as $1.  Needs
# soffice with Calc (libreoffice-calc or libreoffice-calc-nogui: Writer alone cannot
# open an xlsx), pdftoppm (poppler-utils) and Debian's chromium (apt-get install
# chromium); it uses no network.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
home=${1:-}
if [[ -z $home ]]; then
  home=$work/home
  THIDUA_HOME=$home .venv/bin/python -m apps.demo >/dev/null
fi

# 1. The workbook's instructions sheet, as LibreOffice prints it
.venv/bin/thidua template CQ-YT nam-2025 -o "$work/nam-2025_CQ-YT.xlsx" >/dev/null
soffice --headless -env:UserInstallation=file://$work/lo --convert-to pdf --outdir "$work" \
  "$work/nam-2025_CQ-YT.xlsx" >/dev/null
pdftoppm -png -r 80 -f 1 -l 1 "$work/nam-2025_CQ-YT.pdf" "$work/guide"
cp "$(ls "$work"/guide-*.png | head -1)" docs/huong-dan-sheet.png

# 2. One acknowledgment with a problem: its HTML part, headers on top
.venv/bin/python - "$home/outbox" "$work/ack.html" <<'PY'
import html
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

outbox, target = Path(sys.argv[1]), Path(sys.argv[2])
for path in sorted(outbox.glob("*.eml")):
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    subject = str(msg["Subject"])
    if "Chưa đạt" in subject and "CQ-YT" in subject:
        break
else:
    sys.exit(f"no acknowledgment of CQ-YT with problems in {outbox}")
date = msg["Date"].datetime.strftime("%d/%m/%Y %H:%M")
head = "".join(
    f'<tr><td style="color:#666;padding-right:12px">{k}</td><td>{html.escape(v)}</td></tr>'
    for k, v in (("Từ", str(msg["From"])), ("Đến", str(msg["To"])), ("Ngày", date),
                 ("Tiêu đề", subject)))
bar = ('<table style="font-family: Arial, sans-serif; font-size: 13px; margin-bottom: 12px;'
       ' border-bottom: 1px solid #ccc; width: 100%; padding-bottom: 8px">' + head + "</table>")
page = msg.get_body(("html",)).get_content()
start = page.index("<body")
end = page.index(">", start) + 1                # after the <body …> tag
target.write_text(page[:end] + bar + page[end:], encoding="utf-8")
PY
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d -p "$work")" --hide-scrollbars --window-size=1000,540 \
  --screenshot="$PWD/docs/ack-email.png" "file://$work/ack.html" 2>/dev/null
echo "docs/huong-dan-sheet.png docs/ack-email.png"
