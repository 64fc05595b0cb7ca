#!/usr/bin/env bash
# Colour hints, measured the 2017 paper's way: seed16_hints trained at the headline budget
# (4,000 training images: 4 epochs x 62 steps of 16 crops of 128 px, cosine schedule
# peaking at 2e-3), then evaluated with N = 0, 1, 5, 10 and 50 true colours revealed at
# random points of each photo (fixed seed), next to gray and the automatic models of the
# quality curve at the same budget, on CBSD68 and on the prepared ImageNet test split.
# Writes reports/hints/{cbsd68,imagenet-test}/ (metrics.md, hints.png) and a small grid of
# two photos at 0, 5 and 50 hints (reports/hints/grid/grid.png, benchmarks/hints_grid.sh). Re-running reuses the run.
# Usage, from the repository root:  bash benchmarks/hints_curve.sh [../shared/data]
set -euo pipefail
SHARED=${1:-../shared/data}
CP=${CP:-.venv/bin/colorpast}
DATA=data/prepared/imagenet1k
$CP prepare "$SHARED/imagenet1k-256" --out $DATA
RUN=runs/hints/seed16_hints-4000
start=$SECONDS
$CP train --data $DATA --run $RUN --preset default --model seed16_hints --size 128 --lr 2e-3 --schedule cosine \
    --epochs 4 --steps-per-epoch 62 --val-batches 4
echo "hints_curve: $RUN trained (or found finished) in $((SECONDS - start)) s"
OTHERS=()
for r in runs/quality/recommended-4000 runs/quality/seed16-4000; do [ -f $r/model.keras ] && OTHERS+=($r); done
$CP evaluate --data "$SHARED/cbsd68" --models $RUN "${OTHERS[@]}" gray --hints 0 1 5 10 50 --out reports/hints/cbsd68 --grid 3
$CP evaluate --data $DATA --models $RUN "${OTHERS[@]}" gray --hints 0 1 5 10 50 --out reports/hints/imagenet-test --grid 3
# The curve as drawn (RESULTS shows it) and this run's grid of two photos at 0, 5 and 50 hints.
cp reports/hints/cbsd68/hints.png benchmarks/hints_curve.png
WORK=reports/hints/grid bash benchmarks/hints_grid.sh $RUN "$SHARED" reports/hints/grid/grid-900.png
echo "hints_curve: wrote benchmarks/hints_curve.png and reports/hints/grid/grid-900.png"
