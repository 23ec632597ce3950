#!/usr/bin/env bash
# Make the Hugging Face-style copy of the default model that the HF-path tests load:
# ${TRAM_CACHE:-~/.cache/tram}/models/smollm2-135m-instruct-hf (f32 safetensors, sharded, so the
# sharded-checkpoint path is exercised). Needs scripts/requirements.txt installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${TRAM_CACHE:-$HOME/.cache/tram}"
gguf="$cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
out="$cache/models/smollm2-135m-instruct-hf"
[ -s "$gguf" ] || "$here/fetch-model.sh"
if [ -s "$out/config.json" ] && [ "$out/config.json" -nt "$here/gguf_to_hf.py" ]; then
  echo "HF model present: $out"; exit 0
fi
rm -rf "$out.tmp"
python3 "$here/gguf_to_hf.py" "$gguf" "$out.tmp" --dtype f32 --shard-size 200MB
rm -rf "$out"
mv "$out.tmp" "$out"
echo "HF model written: $out"
