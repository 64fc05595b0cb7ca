#!/usr/bin/env bash
# The headline result (benchmarks/RESULTS.md, "Headline"): seed16 (MSE on ab), seed16_cls (the same backbone with
# Colorful's 313-bin head, rebalanced cross-entropy, annealed mean) and colorful, trained
# on the 1,000 shared ImageNet photos under the same budget (4,000 training images as
# random 128 px crops, Adam 3e-4, batch 16, the default preset's recipe), evaluated with
# every metric (ΔCF included) on CBSD68 at full resolution, with the gray baseline and,
# where its weights are present, colorful:official. FID is added when the FID Inception
# weights are present (colorpast weights fetch fid-inception); 68 photos are far below
# the 1,000 that FID needs, so it is printed with that warning. Each training prints its
# wall time. Re-running reuses finished steps (prepare, train and the prior are
# idempotent). Usage, from the repository root:  bash benchmarks/headline.sh [../shared/data]
set -euo pipefail
SHARED=${1:-../shared/data}
CP=.venv/bin/colorpast
$CP prepare "$SHARED/imagenet1k-256" --out data/prepared/imagenet1k
$CP prior --data data/prepared/imagenet1k --out weights/prior_imagenet1k.npy
BUDGET=(--preset default --size 128 --batch-size 16 --epochs 4 --steps-per-epoch 62)
train() {  # NAME [extra options]
    local start=$SECONDS
    $CP train --data data/prepared/imagenet1k --run "runs/headline/$1" --model "$1" "${@:2}" "${BUDGET[@]}"
    echo "headline: $1 trained (or found finished) in $((SECONDS - start)) s"
}
train seed16
train seed16_cls --prior weights/prior_imagenet1k.npy
train colorful --prior weights/prior_imagenet1k.npy
MODELS=(runs/headline/seed16 runs/headline/seed16_cls runs/headline/colorful)
[ -f weights/colorful_eccv16.weights.h5 ] && MODELS+=(colorful:official)
FID=()
[ -f weights/fid_inception.weights.h5 ] && FID=(--fid)
$CP evaluate --data "$SHARED/cbsd68" --models "${MODELS[@]}" gray --out reports/headline --grid 6 "${FID[@]}"
