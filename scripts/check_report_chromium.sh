#!/usr/bin/env bash
# Render a zeronas HTML report in headless Chromium, save a screenshot and check it shows the plots.
#
# Usage: scripts/check_report_chromium.sh [REPORT_HTML] [SCREENSHOT_PNG]
#   REPORT_HTML     default: zeronas-results/report.html (write one with `zeronas report`)
#   SCREENSHOT_PNG  default: REPORT_HTML with .png instead of .html
# Installs Debian's `chromium` package with apt-get when it is missing (needs root or sudo).
set -euo pipefail

report="${1:-zeronas-results/report.html}"
if [ ! -f "$report" ]; then
    echo "error: report $report not found; write one with: zeronas report --out $(dirname "$report")" >&2
    exit 2
fi
report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
shot="${2:-${report%.html}.png}"
case "$shot" in /*) ;; *) shot="$(pwd)/$shot" ;; esac

if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium not found: installing Debian's chromium package" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
rm -f "$shot"
if ! timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$shot" --window-size=1400,3000 \
    "file://$report" >"$profile/chromium.log" 2>&1; then
    cat "$profile/chromium.log" >&2
    echo "error: chromium failed to render $report" >&2
    exit 1
fi
[ -s "$shot" ] || { cat "$profile/chromium.log" >&2; echo "error: no screenshot written" >&2; exit 1; }

python="${PYTHON:-}"
if [ -z "$python" ]; then
    root="$(cd "$(dirname "$0")/.." && pwd)"
    python="$root/.venv/bin/python"
    [ -x "$python" ] || python="python3"
fi
"$python" - "$shot" <<'EOF'
"""The screenshot must be a 1400x3000 PNG that shows the report's plots (their bar colours), not a blank page."""
import sys

import numpy as np
from matplotlib.image import imread

path = sys.argv[1]
pixels = imread(path)[..., :3]
height, width = pixels.shape[:2]
ink = float((pixels.mean(axis=2) < 0.95).mean())
bar_blue = np.array([0x4C, 0x72, 0xB0]) / 255  # the 'All' bars of the correlation plot
blue = int((np.abs(pixels - bar_blue).max(axis=2) < 0.04).sum())
print(f"screenshot {path}: {width}x{height}, {ink:.1%} non-white pixels, {blue} bar-blue pixels")
if (width, height) != (1400, 3000) or ink < 0.01 or blue < 500:
    sys.exit("error: the screenshot does not show the rendered report with its plots")
EOF
echo "ok: $shot"
