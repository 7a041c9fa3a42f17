#!/usr/bin/env bash
# The paper's MLR-Market B-F preset on one GPU, a few minutes (issue #13, item 7).
#
# Prints the GPU's convolution roofline and the step rate / peak memory of
# paper_mlr_market1501_bf per precision x memory format (synthetic pixels), then trains the
# preset from real images in bf16 + channels_last for TRAIN_SECONDS while nvidia-smi samples
# the memory in use, resumes it on the GPU for 45 s, trains a short B-R (and an fp16 B-F,
# the gradient-scaler path) and evaluates B-F + RFD on the GPU: every CUDA path of a real
# run. QUICK=1 skips the throughput table and the fp16 run.
# The projected wall time of the paper's schedule (500 x 751 iterations of 32 images) is
# printed from the trainer's own img/s log.
#
#   [QUICK=1] benchmarks/gpu_check.sh MARKET_ROOT OUT [TRAIN_SECONDS]
#
# MARKET_ROOT needs all of bounding_box_train; query and bounding_box_test may be a subset
# (they only feed the evaluation check). Run from the repository root; `python3` must hold
# a CUDA torch, and the package is used from src/ (nothing is installed).
set -uo pipefail
root=${1:?MARKET_ROOT}; out=${2:?OUT}; seconds=${3:-180}
mkdir -p "$out"
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
rfd=(python3 -c 'from rfdreid.cli.main import main; main()')  # an array: `timeout` runs it
work=$(mktemp -d)
status=0
step() {  # step NAME CMD...: run, log to a temp folder (tail into OUT/steps.log), remember a failure, go on
    local name=$1; shift
    echo "== $name: $*"
    local t0=$SECONDS
    "$@" >"$work/$name.log" 2>&1; local rc=$?
    tr '\r' '\n' <"$work/$name.log" | grep -v '^train B-\|batch/s' | tail -n 15 | tee -a "$out/steps.log"
    echo "== $name: exit $rc after $((SECONDS - t0)) s"
    [ $rc -eq 0 ] || [ $rc -eq 124 ] || status=1
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'

step prepare "${rfd[@]}" prepare --dataset market1501 --root "$root" --out "$work/prep"
protocol=$work/prep/protocol.json
[ "${QUICK:-0}" = 1 ] || step throughput python3 benchmarks/bench_train.py throughput \
    --presets paper_mlr_market1501_bf --device cuda --seconds 4

common=(--preset paper_mlr_market1501_bf --protocol "$protocol"
        --set data.workers=14 --set train.log_every=50)
nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv -lms 500 \
    >"$out/nvidia_smi.csv" &
smi=$!
# iterations as the paper's schedule would be cut short by the clock: the lr stays 2e-4
step train timeout "$seconds" "${rfd[@]}" train "${common[@]}" --out "$work/bf" \
    --set train.precision=bf16 --set train.channels_last=true \
    --set train.iterations=375500 --set train.checkpoint_every=500
kill $smi
cp "$work/bf/log.csv" "$out/train_log.csv"
step resume timeout 45 "${rfd[@]}" train "${common[@]}" --out "$work/bf" --resume \
    --set train.precision=bf16 --set train.channels_last=true \
    --set train.iterations=375500 --set train.checkpoint_every=500
cp "$work/bf/log.csv" "$out/resumed_log.csv"
step br_short "${rfd[@]}" train --preset paper_mlr_market1501_br --protocol "$protocol" \
    --out "$work/br" --set data.workers=14 --set train.precision=bf16 \
    --set train.iterations=50
[ "${QUICK:-0}" = 1 ] || step fp16 "${rfd[@]}" train "${common[@]}" --out "$work/fp16" \
    --set train.precision=fp16 --set train.iterations=100
step evaluate "${rfd[@]}" evaluate --bf "$work/bf/checkpoint.pt" --br "$work/br/checkpoint.pt" \
    --device cuda --out "$work/eval"
cp "$work/eval/results.md" "$out/" 2>/dev/null

python3 - "$out/train_log.csv" "$out/nvidia_smi.csv" <<'EOF'
"""Steady img/s of the trainer's log (first interval dropped), the projection, peak memory."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
rates = [float(r["images_per_s"]) for r in rows[1:]] or [float(r["images_per_s"]) for r in rows]
rates.sort()
median = rates[len(rates) // 2]
its = int(rows[-1]["iteration"])
print(f"trained {its} iterations; img/s median {median:.0f} "
      f"(min {rates[0]:.0f}, max {rates[-1]:.0f}) over {len(rates)} log intervals")
hours = 375500 * 32 / median / 3600
print(f"projected: the paper's 375,500 iterations x 32 images = {hours:.1f} h at {median:.0f} img/s")
smi = csv.DictReader(open(sys.argv[2]), skipinitialspace=True)
used = [int(r["memory.used [MiB]"].split()[0]) for r in smi]
print(f"nvidia-smi memory.used peak {max(used)} MiB over {len(used)} samples")
EOF
echo "gpu_check: status $status"
exit $status
