"""Write the reference inputs (tests/convert/tfjs_inputs.py) as raw float32 for TF.js.

python scripts/tfjs-reference/make_inputs.py OUT_DIR             (the embedders)
python scripts/tfjs-reference/make_inputs.py OUT_DIR detectors   (blazeface-back: one
    listing entry per output node, each written to <model>__<input>__<output>.f32)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "convert"))

import tfjs_inputs  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    listing = []
    if sys.argv[2:] == ["detectors"]:
        for model, (input_node, outputs) in tfjs_inputs.DETECTORS.items():
            for name, array in tfjs_inputs.detector_inputs(model).items():
                path = out / f"{model}__{name}.f32"
                path.write_bytes(array.astype("<f4").tobytes())
                for output_node, output_name in outputs:
                    listing.append(
                        {
                            "model": model,
                            "input": name,
                            "file": path.name,
                            "shape": list(array.shape),
                            "input_node": input_node,
                            "output_node": output_node,
                            "output_file": f"{model}__{name}__{output_name}.f32",
                        }
                    )
        (out / "inputs.json").write_text(json.dumps(listing, indent=1))
        return
    for model, (input_node, output_node, _, _) in tfjs_inputs.MODELS.items():
        for name, array in tfjs_inputs.inputs(model).items():
            path = out / f"{model}__{name}.f32"
            path.write_bytes(array.astype("<f4").tobytes())
            listing.append(
                {
                    "model": model,
                    "input": name,
                    "file": path.name,
                    "shape": list(array.shape),
                    "input_node": input_node,
                    "output_node": output_node,
                }
            )
    (out / "inputs.json").write_text(json.dumps(listing, indent=1))


if __name__ == "__main__":
    main()
