#!/usr/bin/env bash
# The README's hints picture: two CBSD68 photos coloured by a hint model with 0, 5 and 50
# true colours revealed at random points (fixed seed), next to gray and the truth; the
# evaluate grid reduced to 900 px wide.
# Usage, from the repository root:
#   bash benchmarks/hints_grid.sh [MODEL] [../shared/data] [OUT]
# MODEL defaults to effunet_hints:bundled; OUT to benchmarks/hints_grid.png.
set -euo pipefail
MODEL=${1:-effunet_hints:bundled}
SHARED=${2:-../shared/data}
OUT=${3:-benchmarks/hints_grid.png}
CP=${CP:-.venv/bin/colorpast}
WORK=${WORK:-reports/hints/grid}
$CP evaluate --data "$SHARED/cbsd68" --models "$MODEL" --hints 0 5 50 --limit 2 --grid 2 --out "$WORK"
${PYTHON:-.venv/bin/python} - "$WORK/grid.png" "$OUT" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im.resize((900, round(im.height * 900 / im.width)), Image.LANCZOS).save(sys.argv[2], optimize=True)
PY
echo "hints_grid: wrote $OUT"
