#!/usr/bin/env bash
# The GPU check, for a machine with CUDA and a Python that has torch + lightning (no install):
# the whole test suite (tests/nn/test_cuda.py runs only there; tests needing packages the image lacks, e.g.
# fastapi or the GloVe package, skip saying so) and the layer benchmarks on CUDA.
# Usage: bash benchmarks/gpu_check.sh OUTDIR
set -uo pipefail
out=${1:-gpu_check_out}
mkdir -p "$out"
export PYTHONPATH=src PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, lightning; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version(), 'lightning', lightning.__version__, torch.cuda.get_device_name(0))"
python3 -m pytest -p no:cacheprovider -q -rs tests src/rnnlab 2>&1 | tee "$out/pytest.log" | tail -25
rc_tests=${PIPESTATUS[0]}
python3 benchmarks/recurrent.py --device cuda --reps 10 2>&1 | tee "$out/bench.log"
rc_bench=${PIPESTATUS[0]}
python3 benchmarks/agreement.py --device cuda 2>&1 | tee "$out/agreement.log" | tail -15
cp benchmarks/results/recurrent_cuda.json benchmarks/results/agreement_cuda.json "$out/" 2>/dev/null
echo "tests rc=$rc_tests bench rc=$rc_bench"
exit $(( rc_tests || rc_bench ))
