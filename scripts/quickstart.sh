#!/usr/bin/env bash
# The README's first command: install what is missing, build kiln, compile the bundled
# example model and run it, printing its output and the latency over 20 runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}

bash scripts/setup.sh
bash scripts/build.sh
KILN="${KILN_BUILD_DIR:-build}/bin/kiln"

MODEL=models/example.onnx
[ -f "$MODEL" ] || "$PY" models/generate.py models --only example

echo "quickstart: $KILN compile --input_path $MODEL --output_path out/example"
"$KILN" compile --input_path "$MODEL" --output_path out/example

# A seeded input image, the same every time.
mkdir -p out/example_io
"$PY" - <<'PYEOF'
import sys
sys.path.insert(0, "models")
import numpy as np
import generate
(name, x), = generate.make_inputs("models/example.onnx", seed=0).items()
np.save("out/example_io/input.npy", x)
PYEOF

echo "quickstart: $KILN run --input_path out/example --benchmark 20"
"$KILN" run --input_path out/example --input input=out/example_io/input.npy \
  --output_dir out/example_io --benchmark 20

"$PY" - <<'PYEOF'
import glob, os
import numpy as np
for f in sorted(glob.glob("out/example_io/*.npy")):
    if os.path.basename(f) == "input.npy":
        continue
    y = np.load(f)
    top = np.argsort(-y.reshape(-1))[:3]
    print(f"top classes of {os.path.basename(f)[:-4]} {list(y.shape)}: " +
          ", ".join(f"class {i}: {y.reshape(-1)[i]:.4f}" for i in top))
PYEOF
