#!/usr/bin/env bash
# Training step times at an older commit against the working tree, alternating
# (old, new, old, new, ...) so both see the same machine load; medians per run and their
# ratio. Usage, from the repository root (after the headline's prepare and prior steps):
#   bash benchmarks/compare_commits.sh COMMIT [ROUNDS] [OUT_DIR]
set -euo pipefail
COMMIT=$1; ROUNDS=${2:-3}; OUT=${3:-/tmp/colorpast-compare}
HERE=$(pwd)
rm -rf "$OUT/old" && mkdir -p "$OUT/old" && git archive "$COMMIT" | tar -x -C "$OUT/old"
for r in $(seq "$ROUNDS"); do
  for t in old new; do
    tree=$OUT/old; [ $t = new ] && tree=$HERE
    echo "== round $r $t $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    PYTHONPATH=$tree .venv/bin/python benchmarks/step_times.py "$OUT/${t}_$r.json" "$OUT/runs/$t" | tail -1
  done
done
.venv/bin/python - "$OUT" <<'PY'
import json, statistics as st, sys, glob
med = {t: [st.median(json.load(open(f))["step_s"][1:]) for f in sorted(glob.glob(f"{sys.argv[1]}/{t}_*.json"))] for t in ("old", "new")}
for t, v in med.items():
    print(f"{t}: per-run median s/step {[round(x, 2) for x in v]}, median {st.median(v):.2f} s/step")
print(f"new/old {st.median(med['new']) / st.median(med['old']):.2f}; per round {[round(n / o, 2) for o, n in zip(med['old'], med['new'])]}")
PY
