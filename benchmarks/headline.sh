#!/usr/bin/env bash
# The README's headline result: seed16 and colorful trained on the 1,000 shared ImageNet
# photos under the same budget (4,000 training images as random 128 px crops, Adam 3e-4,
# batch 16, the default preset's recipe), evaluated with every metric on CBSD68 at full
# resolution, with the gray baseline and, where its weights are present,
# colorful:official. Re-running reuses finished steps (prepare, train and the prior are
# idempotent). Usage, from the repository root:  bash benchmarks/headline.sh [../shared/data]
set -euo pipefail
SHARED=${1:-../shared/data}
CP=.venv/bin/colorpast
$CP prepare "$SHARED/imagenet1k-256" --out data/prepared/imagenet1k
$CP prior --data data/prepared/imagenet1k --out weights/prior_imagenet1k.npy
BUDGET=(--preset default --size 128 --batch-size 16 --epochs 4 --steps-per-epoch 62)
$CP train --data data/prepared/imagenet1k --run runs/headline/seed16 --model seed16 "${BUDGET[@]}"
$CP train --data data/prepared/imagenet1k --run runs/headline/colorful --model colorful \
    --prior weights/prior_imagenet1k.npy "${BUDGET[@]}"
MODELS=(runs/headline/seed16 runs/headline/colorful)
[ -f weights/colorful_eccv16.weights.h5 ] && MODELS+=(colorful:official)
$CP evaluate --data "$SHARED/cbsd68" --models "${MODELS[@]}" gray --out reports/headline --grid 6
