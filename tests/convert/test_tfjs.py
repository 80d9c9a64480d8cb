"""TF.js graph models to ONNX: the converted networks give TF.js's own outputs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from openlfr.convert import tfjs
from openlfr.errors import ModelNotFoundError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tfjs"

_spec = importlib.util.spec_from_file_location(
    "tfjs_inputs", Path(__file__).with_name("tfjs_inputs.py")
)
tfjs_inputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tfjs_inputs)


def _session(data: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("model", sorted(tfjs_inputs.MODELS))
def test_conversion_matches_tfjs_outputs(model: str, human_models_dir: Path) -> None:
    import onnx

    input_node, output_node, _, _ = tfjs_inputs.MODELS[model]
    data = tfjs.convert_file(human_models_dir / f"{model}.json", [output_node], ["y"])
    ops = {n.op_type for n in onnx.load_from_string(data).graph.node}
    # Folded: relu6 chains into Clip, MXNet's PReLU into PRelu, zero Pads into the convs.
    assert not ops & {"Relu", "Min", "Max", "Pad"}, ops
    session = _session(data)
    listing = json.loads((FIXTURES / "reference.json").read_text())["outputs"]
    inputs = tfjs_inputs.inputs(model)
    checked = 0
    for item in listing:
        if item["model"] != model:
            continue
        expected = np.fromfile(FIXTURES / item["file"], "<f4").reshape(item["shape"])
        got = session.run(None, {input_node: inputs[item["input"]]})[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-4, item["file"]
        assert np.abs(expected).max() > 0.1  # the reference is not a degenerate output
        checked += 1
    assert checked == 2


# --- hand-made models ---------------------------------------------------------------------


def _node(name, op, inputs=(), **attr):
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


def _placeholder(name, shape):
    dims = [{"size": str(d)} for d in shape]
    return _node(name, "Placeholder", shape={"shape": {"dim": dims}}, dtype={"type": "DT_FLOAT"})


def _write(tmp_path: Path, nodes, weights: list[tuple[dict, bytes]]) -> Path:
    spec = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [{"paths": ["w.bin"], "weights": [w for w, _ in weights]}],
    }
    (tmp_path / "w.bin").write_bytes(b"".join(data for _, data in weights))
    path = tmp_path / "model.json"
    path.write_text(json.dumps(spec))
    return path


def test_weights_decode_as_tfjs_does(tmp_path: Path) -> None:
    f16 = np.array([0.5, -2.25, 1e-3, 65504.0], np.float16)
    u8 = np.array([0, 1, 200, 255], np.uint8)
    u16 = np.array([0, 7, 40000, 65535], np.uint16)
    nodes = [
        _placeholder("x", [-1, 4]),
        _node("a", "Const"),
        _node("b", "Const"),
        _node("c", "Const"),
        _node("shape", "Const"),
        _node("ab", "Mul", ["x", "a"]),
        _node("abc", "AddV2", ["ab", "b"]),
        _node("sum", "Sub", ["abc", "c"]),
        _node("out", "Reshape", ["sum", "shape"]),
    ]
    quant = "quantization"
    weights = [
        (
            {"name": "a", "shape": [4], "dtype": "float32", quant: {"dtype": "float16"}},
            f16.tobytes(),
        ),
        (
            {"name": "b", "shape": [4], "dtype": "float32",
             quant: {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
            u8.tobytes(),
        ),
        (
            {"name": "c", "shape": [4], "dtype": "float32",
             quant: {"dtype": "uint16", "scale": 0.001, "min": 2.0}},
            u16.tobytes(),
        ),
        (
            {"name": "shape", "shape": [2], "dtype": "int32",
             quant: {"dtype": "uint8", "scale": 1.0, "min": -1.0}},
            np.array([0, 3], np.uint8).tobytes(),  # -> [-1, 2]
        ),
    ]  # fmt: skip
    path = _write(tmp_path, nodes, weights)
    model = tfjs.load(path)
    np.testing.assert_array_equal(model.weights["a"], f16.astype(np.float32))
    np.testing.assert_array_equal(model.weights["b"], (u8 * 0.5 - 1.0).astype(np.float32))
    np.testing.assert_allclose(model.weights["c"], u16 * 0.001 + 2.0, rtol=1e-7)
    np.testing.assert_array_equal(model.weights["shape"], [-1, 2])
    assert model.weights["shape"].dtype == np.int32
    session = _session(tfjs.convert_file(path, ["out"], ["y"]))
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    got = session.run(None, {"x": x})[0]
    expected = (x * model.weights["a"] + model.weights["b"] - model.weights["c"]).reshape(-1, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_unsupported_op_is_a_typed_error_naming_it(tmp_path: Path) -> None:
    nodes = [_placeholder("x", [-1, 4]), _node("y", "Cumprod", ["x"])]
    path = _write(tmp_path, nodes, [])
    with pytest.raises(tfjs.UnsupportedOpError, match="Cumprod") as info:
        tfjs.convert_file(path, ["y"])
    assert info.value.op == "Cumprod"
    assert isinstance(info.value, ModelNotFoundError)


def test_missing_and_corrupt_files_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(tfjs.TfjsFormatError, match="does not exist"):
        tfjs.load(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(tfjs.TfjsFormatError, match="not readable JSON"):
        tfjs.load(bad)
    bad.write_text(json.dumps({"format": "layers-model"}))
    with pytest.raises(tfjs.TfjsFormatError, match="not a TF.js graph model"):
        tfjs.load(bad)
    nodes = [_placeholder("x", [-1, 4]), _node("a", "Const"), _node("y", "Mul", ["x", "a"])]
    entry = {"name": "a", "shape": [4], "dtype": "float32"}
    path = _write(tmp_path, nodes, [(entry, b"\0" * 12)])  # one float short
    with pytest.raises(tfjs.TfjsFormatError, match="past the end"):
        tfjs.load(path)
    (tmp_path / "w.bin").unlink()
    with pytest.raises(tfjs.TfjsFormatError, match="missing"):
        tfjs.load(path)
    path = _write(tmp_path, nodes[:1] + nodes[2:], [])
    with pytest.raises(tfjs.TfjsFormatError, match="not defined"):
        tfjs.convert_file(path, ["y"])


def test_relu6_chain_becomes_one_clip(tmp_path: Path) -> None:
    import onnx

    nodes = [
        _placeholder("x", [-1, 4]),
        _node("six", "Const"),
        _node("zero", "Const"),
        _node("r", "Relu", ["x"]),
        _node("lo", "Minimum", ["r", "six"]),
        _node("y", "Maximum", ["lo", "zero"]),
        _node("z", "Minimum", ["six", "x"]),  # constant first; and x has other consumers
    ]
    scalar = {"shape": [], "dtype": "float32"}
    weights = [
        ({"name": "six", **scalar}, np.float32(6).tobytes()),
        ({"name": "zero", **scalar}, np.float32(0).tobytes()),
    ]
    data = tfjs.convert_file(_write(tmp_path, nodes, weights), ["y", "z"], ["y", "z"])
    ops = [n.op_type for n in onnx.load_from_string(data).graph.node]
    assert ops.count("Clip") == 2 and "Relu" not in ops and "Min" not in ops
    x = np.array([[-3.0, 0.5, 5.9, 7.0], [100.0, -0.0, 6.0, -1e9]], np.float32)
    y, z = _session(data).run(None, {"x": x})
    np.testing.assert_array_equal(y, np.clip(x, 0, 6))
    np.testing.assert_array_equal(z, np.minimum(x, 6))


@pytest.mark.parametrize("model", sorted(tfjs_inputs.DETECTORS))
def test_detector_conversion_matches_tfjs_outputs(model: str, human_models_dir: Path) -> None:
    input_node, outputs = tfjs_inputs.DETECTORS[model]
    nodes = [node for node, _ in outputs]
    names = [name for _, name in outputs]
    session = _session(tfjs.convert_file(human_models_dir / f"{model}.json", nodes, names))
    listing = json.loads((FIXTURES / f"{model}.json").read_text())["outputs"]
    inputs = tfjs_inputs.detector_inputs(model)
    runs = {key: session.run(None, {input_node: x}) for key, x in inputs.items()}
    checked = 0
    for item in listing:
        expected = np.fromfile(FIXTURES / item["file"], "<f4").reshape(item["shape"])
        got = runs[item["input"]][nodes.index(item["output_node"])]
        assert got.shape == expected.shape
        # The raw logits reach |600| on the synthetic pattern, where float32 summation
        # order alone moves the last digits (1e-6 relative): 1e-4 of the output's scale.
        scale = max(1.0, float(np.abs(expected).max()))
        assert np.abs(got - expected).max() <= 1e-4 * scale, item["file"]
        if item["file"].split("__")[-1].startswith("scores"):
            # What the detector uses: sigmoid scores, within 1e-4 absolute.
            sig = lambda v: 1 / (1 + np.exp(-v.astype(np.float64)))  # noqa: E731
            assert np.abs(sig(got) - sig(expected)).max() <= 1e-4, item["file"]
        else:
            # Boxes and keypoints in units of the 256-pixel input, within 1e-4 absolute.
            assert np.abs(got - expected).max() / 256 <= 1e-4, item["file"]
        assert np.abs(expected).max() > 0.1
        checked += 1
    assert checked == 2 * len(outputs)
    # The astronaut's face is found: some anchor is confident on the real photo.
    scores = np.concatenate([runs["astronaut"][0].ravel(), runs["astronaut"][1].ravel()])
    assert scores.max() > 1.0  # logit: sigmoid > 0.73
