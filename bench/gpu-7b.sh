#!/usr/bin/env bash
# The 7B bench on a GPU, in one go: bash bench/gpu-7b.sh [webgpu|cuda] [more pnpm bench 7b options]
#
# onnxruntime-node 1.30.0's Linux x64 binary bundles the WebGPU execution provider (Dawn on Vulkan); its CUDA provider
# is a separate download (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install, with
# internet). This script checks that the provider really gets a GPU (a one-MatMul session must run on it), then runs
# `pnpm bench 7b --ep <provider>`: ours per dtype and the ceilings (weight streaming, MatMul) on that provider, decode
# reported against the streaming rate measured there and against the GPU's nominal memory bandwidth (from
# GPU_BANDWIDTH_GBPS, or a table of common NVIDIA GPUs by nvidia-smi's name). Exit 1, saying why, when there is no GPU.
set -euo pipefail
cd "$(dirname "$0")"
EP="${1:-webgpu}"
shift || true
case "$EP" in webgpu | cuda) ;; *) echo "gpu-7b.sh: the provider must be webgpu or cuda, found '$EP'" >&2; exit 2 ;; esac

if [ "$EP" = webgpu ] && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  echo "gpu-7b.sh: WebGPU in onnxruntime-node runs on Vulkan, and libvulkan.so.1 is missing (Debian: apt-get install -y libvulkan1; the GPU driver provides the ICD)." >&2
fi
if ! node --conditions=@video-llava/source --import tsx real/gpu-probe.ts "$EP"; then
  echo "gpu-7b.sh: no usable GPU for the $EP execution provider on this machine (see above); nothing was measured." >&2
  exit 1
fi

BANDWIDTH="${GPU_BANDWIDTH_GBPS:-}"
if [ -z "$BANDWIDTH" ] && command -v nvidia-smi > /dev/null; then
  NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
  case "$NAME" in
    *H200*) BANDWIDTH=4800 ;;
    *H100*SXM* | *H100\ 80GB\ HBM3*) BANDWIDTH=3350 ;;
    *H100*) BANDWIDTH=2000 ;;
    *A100*80GB*) BANDWIDTH=2039 ;;
    *A100*) BANDWIDTH=1555 ;;
    *L40S* | *L40*) BANDWIDTH=864 ;;
    *L4*) BANDWIDTH=300 ;;
    *A10G* | *A10*) BANDWIDTH=600 ;;
    *T4*) BANDWIDTH=320 ;;
    *4090*) BANDWIDTH=1008 ;;
    *3090*) BANDWIDTH=936 ;;
  esac
  echo "gpu-7b.sh: $NAME, nominal memory bandwidth ${BANDWIDTH:-unknown (set GPU_BANDWIDTH_GBPS)} GB/s" >&2
fi

# The llama.cpp and transformers.js peers are CPU figures: left out here unless asked for.
exec pnpm bench 7b --ep "$EP" --skip-peers --dtypes q4,fp16 ${BANDWIDTH:+--gpu-bandwidth-gbps "$BANDWIDTH"} --no-readme "$@"
