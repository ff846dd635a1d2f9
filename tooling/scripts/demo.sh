#!/usr/bin/env bash
# The README's first command: set up on a fresh machine and run the main job on the bundled tiny model:
# convert its checkpoint to ONNX (once; reused afterwards), then ask a question about the bundled video and stream
# the answer. The model has random weights: the answer is gibberish by design.
#
#   npm run demo                       # the default question
#   npm run demo -- "What happens?"    # another question
#   DEMO_RECONVERT=1 npm run demo      # convert again (after changing the converter)
set -euo pipefail
cd "$(dirname "$0")/../.."
export TURBO_TELEMETRY_DISABLED=1

fixture=fixtures/video-llava-tiny
converted=$fixture/onnx-fp32 # git-ignored
video=$fixture/video/sample_48f_320x240.mp4
question=${1:-Why is this funny?}

bash tooling/scripts/install.sh
echo "[demo] building the CLI and the packages it uses" >&2
pnpm exec turbo run build --filter=@video-llava/cli... --concurrency=2 --output-logs=errors-only >&2

# Convert on first use, or when the checkpoint is newer than the conversion (or DEMO_RECONVERT=1).
if [ "${DEMO_RECONVERT:-0}" = 1 ] || [ ! -f "$converted/onnx/decoder_model_merged.onnx" ] || [ "$fixture/model/model.safetensors" -nt "$converted/onnx/decoder_model_merged.onnx" ]; then
  echo "[demo] converting $fixture/model to ONNX (fp32) into $converted" >&2
  node apps/cli/dist/bin.js convert "$fixture/model" "$converted" --dtype fp32 --overwrite >&2
else
  echo "[demo] reusing $converted (DEMO_RECONVERT=1 converts again)" >&2
fi

echo "[demo] USER: <video>\\n$question ASSISTANT:" >&2
node apps/cli/dist/bin.js generate "$converted" --question "$question" --video "$video" --max-new-tokens 32 --greedy
