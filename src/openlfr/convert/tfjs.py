"""TF.js graph models (model.json + weight shards) to ONNX, for the ops face networks use.

Weights are decoded as TF.js's io_utils.decodeWeight does: float32/int32 raw, float16
halves, uint8/uint16 `v * scale + min` (rounded for int32). Tensors stay NHWC as in
TensorFlow; each convolution and pooling is wrapped in NHWC<->NCHW Transposes, which ONNX
Runtime's transpose optimiser cancels out between neighbouring layers. Semantics follow
tfjs-converter's executors and tfjs-core's conv_util: padding SAME puts the odd pixel at
the bottom/right (ONNX SAME_UPPER), EXPLICIT reads `explicit_paddings` (NHWC pairs),
strides/dilations are NHWC lists, _FusedConv2D/_FusedMatMul apply BiasAdd then one
activation, Mean honours `keep_dims`. Only the nodes the chosen outputs need are converted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.errors import ModelNotFoundError

OPSET = 17
_TO_NCHW = [0, 3, 1, 2]
_TO_NHWC = [0, 2, 3, 1]


class TfjsFormatError(ModelNotFoundError):
    """A model.json or weight shard that cannot be read or decoded."""


class UnsupportedOpError(ModelNotFoundError):
    """A TF.js op (or op option) that this converter has no ONNX mapping for."""

    def __init__(self, op: str, node: str, detail: str = "") -> None:
        self.op = op
        extra = f" ({detail})" if detail else ""
        super().__init__(f"TF.js op {op!r} in node {node!r} is not supported{extra}")


# --- reading and decoding ----------------------------------------------------------------


@dataclass
class TfjsModel:
    """A parsed graph model: its nodes by name, in file order, and its decoded weights."""

    nodes: dict[str, dict]
    weights: dict[str, np.ndarray]
    signature: dict


def load(model_json: Path) -> TfjsModel:
    """Read model.json and the weight shards it lists (paths relative to its folder)."""
    model_json = Path(model_json)
    try:
        spec = json.loads(model_json.read_bytes())
    except FileNotFoundError:
        raise TfjsFormatError(f"TF.js model file {model_json} does not exist") from None
    except (OSError, ValueError) as exc:
        raise TfjsFormatError(
            f"TF.js model file {model_json} is not readable JSON: {exc}"
        ) from None
    shards = []
    for group in _manifest(spec, model_json):
        for rel in group.get("paths", []):
            path = model_json.parent / rel
            try:
                shards.append(path.read_bytes())
            except OSError as exc:
                raise TfjsFormatError(f"weight shard {path} is missing: {exc}") from None
    return parse(spec, b"".join(shards), where=str(model_json))


def _manifest(spec: object, where: object) -> list[dict]:
    if not isinstance(spec, dict) or "modelTopology" not in spec:
        raise TfjsFormatError(f"{where} is not a TF.js graph model (no modelTopology)")
    manifest = spec.get("weightsManifest", [])
    if not isinstance(manifest, list):
        raise TfjsFormatError(f"{where}: weightsManifest is not a list")
    return manifest


def parse(spec: dict, weight_data: bytes, where: str = "model.json") -> TfjsModel:
    """A TfjsModel from the parsed model.json and its shards' bytes concatenated in order."""
    manifest = _manifest(spec, where)
    topology = spec["modelTopology"]
    nodes_list = topology.get("node") if isinstance(topology, dict) else None
    if not isinstance(nodes_list, list):
        raise TfjsFormatError(f"{where}: modelTopology has no node list")
    weights: dict[str, np.ndarray] = {}
    offset = 0
    try:
        for group in manifest:
            for entry in group["weights"]:
                array, size = decode_weight(entry, weight_data, offset)
                weights[entry["name"]] = array
                offset += size
    except (KeyError, TypeError, ValueError) as exc:
        raise TfjsFormatError(f"{where}: bad weights manifest entry ({exc})") from None
    if offset != len(weight_data):
        raise TfjsFormatError(
            f"{where}: the weight shards hold {len(weight_data)} bytes, the manifest {offset}"
        )
    nodes = {}
    for node in nodes_list:
        if not isinstance(node, dict) or "name" not in node or "op" not in node:
            raise TfjsFormatError(f"{where}: a node without a name or op")
        nodes[node["name"]] = node
    signature = spec.get("signature") or spec.get("userDefinedMetadata", {}).get("signature", {})
    return TfjsModel(nodes, weights, signature or {})


_RAW = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1")}
_QUANT = {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<f2")}


def decode_weight(entry: dict, data: bytes, offset: int) -> tuple[np.ndarray, int]:
    """(array, bytes used) for one manifest entry read at `offset` (tfjs io_utils rules)."""
    name, dtype = entry["name"], entry["dtype"]
    shape = [int(d) for d in entry["shape"]]
    count = int(np.prod(shape)) if shape else 1
    quant = entry.get("quantization")
    if quant:
        qtype = quant.get("dtype")
        if qtype not in _QUANT:
            raise ValueError(f"weight {name!r} has unknown quantization dtype {qtype!r}")
        stored = _QUANT[qtype]
    elif dtype in _RAW:
        stored = _RAW[dtype]
    else:
        raise ValueError(f"weight {name!r} has unsupported dtype {dtype!r}")
    size = count * stored.itemsize
    if offset + size > len(data):
        raise ValueError(f"weight {name!r} runs past the end of the shards")
    raw = np.frombuffer(data, stored, count, offset)
    if not quant:
        values = raw.astype(np.bool_) if dtype == "bool" else raw.copy()
    elif qtype == "float16":
        if dtype != "float32":
            raise ValueError(f"weight {name!r}: float16 quantization needs dtype float32")
        values = raw.astype(np.float32)
    else:
        if "scale" not in quant or "min" not in quant:
            raise ValueError(f"weight {name!r}: {qtype} quantization needs min and scale")
        real = raw.astype(np.float64) * float(quant["scale"]) + float(quant["min"])
        if dtype == "float32":
            values = real.astype(np.float32)
        elif dtype == "int32":
            values = np.floor(real + 0.5).astype(np.int32)  # JavaScript's Math.round
        else:
            raise ValueError(f"weight {name!r}: {qtype} quantization of {dtype} unsupported")
    return values.reshape(shape), size


# --- attributes ---------------------------------------------------------------------------


def _attr(node: dict, key: str, default=None):
    value = node.get("attr", {}).get(key)
    if value is None:
        return default
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "list" in value:
        items = value["list"]
        if "s" in items:
            return [base64.b64decode(s).decode() for s in items["s"]]
        if "i" in items:
            return [int(i) for i in items["i"]]
        if "f" in items:
            return [float(f) for f in items["f"]]
        return []
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    return default


def _tensor_name(ref: str) -> str:
    name, _, index = ref.partition(":")
    if index not in ("", "0"):
        raise TfjsFormatError(f"output {index} of {name!r} is used; only output 0 is supported")
    return name


# --- graph building -----------------------------------------------------------------------


class _Builder:
    def __init__(self, model: TfjsModel) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.model = model
        self.nodes: list = []
        self.initializers: list = []
        self.values: dict[str, str] = {}  # TF node name -> ONNX value name
        self.inputs: list = []
        self._count = 0
        # Clip-like values: ONNX value -> (source value, low, high, TF node), so that a
        # chain Relu -> Minimum(6) -> Maximum(0) becomes one Clip(0, 6), which ONNX
        # Runtime fuses into the convolution before it.
        self.clips: dict[str, tuple[str, float, float, str]] = {}
        self.consumers: dict[str, int] = {}
        # Patterns emitted as one ONNX op (see _plan_fusions): nodes folded into another.
        self.skip: set[str] = set()
        self.prelu: dict[str, tuple[str, str]] = {}  # Add node -> (x, alpha)
        self.padded: dict[str, tuple[str, list[int]]] = {}  # conv node -> (x, t, l, b, r)

    def drop(self, value: str) -> None:
        """Remove the node that produced `value` (it has no other consumer)."""
        self.nodes = [n for n in self.nodes if value not in n.output]

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}__{self._count}"

    def const(self, array: np.ndarray, prefix: str = "const") -> str:
        name = self.name(prefix)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attrs) -> str:
        out = out or self.name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def constant_of(self, ref: str, node: dict) -> np.ndarray:
        name = _tensor_name(ref)
        source = self.model.nodes.get(name)
        if source is None or source["op"] != "Const" or name not in self.model.weights:
            raise UnsupportedOpError(node["op"], node["name"], f"input {name!r} must be a constant")
        return self.model.weights[name]

    def value(self, ref: str) -> str:
        name = _tensor_name(ref)
        if name not in self.values:  # constants become initializers when first used
            array = self.model.weights.get(name)
            if array is None:
                raise TfjsFormatError(f"constant {name!r} has no weights in the manifest")
            self.values[name] = self.const(array.astype(np.float32), "c")
        return self.values[name]


def _data_inputs(node: dict) -> list[str]:
    return [i for i in node.get("input", []) if not i.startswith("^")]  # not control deps


def _order(model: TfjsModel, outputs: Sequence[str]) -> list[str]:
    """The nodes the outputs depend on, each after its inputs."""
    order: list[str] = []
    state: dict[str, int] = {}
    for out in outputs:
        stack = [(_tensor_name(out), False)]
        while stack:
            name, done = stack.pop()
            if done:
                state[name] = 2
                order.append(name)
                continue
            if state.get(name):
                if state[name] == 1:
                    raise TfjsFormatError(f"the graph has a cycle through {name!r}")
                continue
            node = model.nodes.get(name)
            if node is None:
                raise TfjsFormatError(f"node {name!r} is referenced but not defined")
            state[name] = 1
            stack.append((name, True))
            for ref in reversed(_data_inputs(node)):
                if not state.get(_tensor_name(ref)):
                    stack.append((_tensor_name(ref), False))
    return order


def _check_nhwc(node: dict) -> None:
    fmt = _attr(node, "data_format", "NHWC")
    if fmt != "NHWC":
        raise UnsupportedOpError(node["op"], node["name"], f"data_format {fmt}")


def _spatial(node: dict, key: str) -> list[int]:
    values = _attr(node, key) or [1, 1, 1, 1]
    if len(values) != 4:
        raise UnsupportedOpError(node["op"], node["name"], f"{key} {values}")
    return [values[1], values[2]]


def _pad_attrs(node: dict) -> dict:
    padding = _attr(node, "padding", "VALID")
    if padding == "SAME":
        return {"auto_pad": "SAME_UPPER"}
    if padding == "VALID":
        return {"auto_pad": "VALID"}
    if padding == "EXPLICIT":
        p = _attr(node, "explicit_paddings") or []
        if len(p) != 8:
            raise UnsupportedOpError(node["op"], node["name"], f"explicit_paddings {p}")
        return {"pads": [p[2], p[4], p[3], p[5]]}  # NHWC pairs -> top, left, bottom, right
    raise UnsupportedOpError(node["op"], node["name"], f"padding {padding}")


def _activation(b: _Builder, x: str, kind: str, node: dict, extra: list[str]) -> str:
    kind = kind.lower()
    if kind in ("", "linear"):
        return x
    if kind == "relu":
        return b.op("Relu", [x])
    if kind == "relu6":
        return b.op("Clip", [x, b.const(np.float32(0)), b.const(np.float32(6))])
    if kind == "elu":
        return b.op("Elu", [x], alpha=1.0)
    if kind == "sigmoid":
        return b.op("Sigmoid", [x])
    if kind == "tanh":
        return b.op("Tanh", [x])
    if kind == "leakyrelu":
        return b.op("LeakyRelu", [x], alpha=float(_attr(node, "leakyrelu_alpha", 0.2)))
    if kind == "prelu":
        if not extra:
            raise UnsupportedOpError(node["op"], node["name"], "prelu without alpha")
        return b.op("PRelu", [x, extra[0]])
    raise UnsupportedOpError(node["op"], node["name"], f"fused activation {kind}")


def _fused(node: dict) -> tuple[bool, str]:
    """(has BiasAdd, activation) of a _Fused* node's fused_ops."""
    ops = [s.lower() for s in _attr(node, "fused_ops", [])]
    if not ops:
        return False, ""
    if ops[0] == "biasadd":
        if len(ops) > 2:
            raise UnsupportedOpError(node["op"], node["name"], f"fused_ops {ops}")
        return True, ops[1] if len(ops) > 1 else ""
    if ops[0] == "fusedbatchnorm":
        raise UnsupportedOpError(node["op"], node["name"], "fused FusedBatchNorm")
    if len(ops) > 1:
        raise UnsupportedOpError(node["op"], node["name"], f"fused_ops {ops}")
    return False, ops[0]


def _plan_fusions(b: _Builder, order: list[str]) -> None:
    """Find two patterns of converted models that ONNX Runtime would otherwise run op by op:
    PReLU written as Max(0, x) + alpha * Min(0, x) (MXNet exports), and a zero Pad
    feeding a VALID convolution (folded into the convolution's pads). Only intermediate
    nodes without other consumers are folded."""
    nodes = b.model.nodes

    def node_of(ref: str) -> dict:
        return nodes.get(_tensor_name(ref), {})

    def single(ref: str) -> bool:
        return b.consumers.get(_tensor_name(ref), 0) == 1

    def zero(ref: str) -> bool:
        value = _scalar_const(b, ref)
        return value is not None and float(value) == 0.0

    def split(node: dict, test) -> tuple[str, str] | None:
        """(the input passing `test`, the other) of a binary node, or None."""
        ins = _data_inputs(node)
        for i in (0, 1):
            if len(ins) == 2 and test(ins[i]):
                return ins[i], ins[1 - i]
        return None

    for name in order:
        node = nodes[name]
        if node["op"] in ("Add", "AddV2"):
            for i in (0, 1):
                ins = _data_inputs(node)
                maximum, product = ins[i], ins[1 - i]
                if node_of(maximum).get("op") != "Maximum" or node_of(product).get("op") != "Mul":
                    continue
                max_parts = split(node_of(maximum), zero)
                mul_parts = split(node_of(product), lambda r: node_of(r).get("op") == "Minimum")
                if not max_parts or not mul_parts or _scalar_const(b, mul_parts[1]) is not None:
                    continue
                minimum, alpha = mul_parts
                if node_of(alpha).get("op") != "Const":
                    continue
                min_parts = split(node_of(minimum), zero)
                x = max_parts[1]
                if not min_parts or _tensor_name(min_parts[1]) != _tensor_name(x):
                    continue
                if not all(single(r) for r in (maximum, product, minimum)):
                    continue
                b.prelu[name] = (x, alpha)
                b.skip.update(_tensor_name(r) for r in (maximum, product, minimum))
                break
        elif node["op"] in ("Conv2D", "DepthwiseConv2dNative", "_FusedConv2D"):
            source = _data_inputs(node)[0]
            pad = node_of(source)
            if pad.get("op") != "Pad" or not single(source) or _attr(node, "padding") != "VALID":
                continue
            pads_ref = _data_inputs(pad)[1]
            if node_of(pads_ref).get("op") != "Const":
                continue
            pads = b.model.weights[_tensor_name(pads_ref)]
            if pads.shape != (4, 2) or pads[0].any() or pads[3].any():
                continue
            (t, bottom), (left, r) = pads[1].tolist(), pads[2].tolist()
            b.padded[name] = (_data_inputs(pad)[0], [t, left, bottom, r])
            b.skip.add(_tensor_name(source))


def _conv(b: _Builder, node: dict, depthwise: bool) -> str:
    _check_nhwc(node)
    ins = _data_inputs(node)
    pad_attrs = _pad_attrs(node)
    if node["name"] in b.padded:  # a zero Pad before this VALID convolution, folded in
        source, pads = b.padded[node["name"]]
        ins = [source, *ins[1:]]
        pad_attrs = {"pads": pads}
    kernel = b.constant_of(ins[1], node).astype(np.float32)  # (kh, kw, in, out|multiplier)
    kh, kw, cin, cout = kernel.shape
    if depthwise:
        weight = kernel.reshape(kh, kw, cin * cout).transpose(2, 0, 1)[:, None]
        group = cin  # output channel c * multiplier + m, as TF orders them
    else:
        weight = kernel.transpose(3, 2, 0, 1)
        group = 1
    bias_add, act = _fused(node) if node["op"].startswith(("_Fused", "Fused")) else (False, "")
    args = ins[2:]
    inputs = [b.op("Transpose", [b.value(ins[0])], perm=_TO_NCHW), b.const(weight, "w")]
    if bias_add:
        inputs.append(b.const(b.constant_of(ins[2], node).astype(np.float32), "b"))
        args = args[1:]
    y = b.op(
        "Conv",
        inputs,
        kernel_shape=[kh, kw],
        strides=_spatial(node, "strides"),
        dilations=_spatial(node, "dilations"),
        group=group,
        **pad_attrs,
    )
    y = b.op("Transpose", [y], perm=_TO_NHWC)
    return _activation(b, y, act, node, [b.value(r) for r in args])


def _pool(b: _Builder, node: dict, op_type: str) -> str:
    _check_nhwc(node)
    attrs = {"kernel_shape": _spatial(node, "ksize"), "strides": _spatial(node, "strides")}
    attrs.update(_pad_attrs(node))
    if op_type == "AveragePool":
        attrs["count_include_pad"] = 0  # TF averages over the real pixels only
    x = b.op("Transpose", [b.value(_data_inputs(node)[0])], perm=_TO_NCHW)
    return b.op("Transpose", [b.op(op_type, [x], **attrs)], perm=_TO_NHWC)


def _matmul(b: _Builder, node: dict) -> str:
    ins = _data_inputs(node)
    a = b.value(ins[0])
    if _attr(node, "transpose_a", False):
        a = b.op("Transpose", [a], perm=[1, 0])
    if b.model.nodes.get(_tensor_name(ins[1]), {}).get("op") == "Const":
        w = b.constant_of(ins[1], node).astype(np.float32)
        w = w.T if _attr(node, "transpose_b", False) else w
        y = b.op("MatMul", [a, b.const(np.ascontiguousarray(w), "w")])
    else:
        w = b.value(ins[1])
        if _attr(node, "transpose_b", False):
            w = b.op("Transpose", [w], perm=[1, 0])
        y = b.op("MatMul", [a, w])
    if node["op"] != "_FusedMatMul":
        return y
    bias_add, act = _fused(node)
    args = [b.value(r) for r in ins[2:]]
    if bias_add:
        y = b.op("Add", [y, args[0]])
        args = args[1:]
    return _activation(b, y, act, node, args)


_BINARY = {
    "Add": "Add",
    "AddV2": "Add",
    "BiasAdd": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "RealDiv": "Div",
    "Maximum": "Max",
    "Minimum": "Min",
}
_UNARY = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Identity": "Identity"}


def _scalar_const(b: _Builder, ref: str) -> np.ndarray | None:
    name = _tensor_name(ref)
    if b.model.nodes.get(name, {}).get("op") != "Const" or name not in b.model.weights:
        return None
    array = b.model.weights[name]
    return array.reshape(()).astype(np.float32) if array.size == 1 else None


def _clip(b: _Builder, node: dict, ins: list[str]) -> str | None:
    """Minimum/Maximum with a scalar constant as a Clip, merged with a Clip or Relu before
    it when that has no other consumer (Keras's relu6 is Relu, Minimum(6), Maximum(0));
    None when neither input is a scalar constant."""
    for i in (0, 1):
        bound = _scalar_const(b, ins[i])
        if bound is None or _scalar_const(b, ins[1 - i]) is not None:
            continue
        x = b.value(ins[1 - i])
        lo, hi = -np.inf, np.inf
        if x in b.clips and b.consumers.get(b.clips[x][3], 0) == 1:
            b.drop(x)
            x, lo, hi, _ = b.clips[x]
        c = float(bound)
        # min(clip(x, lo, hi), c) = clip(x, min(lo, c), min(hi, c)); max likewise.
        lo, hi = (min(lo, c), min(hi, c)) if node["op"] == "Minimum" else (max(lo, c), max(hi, c))
        bounds = [b.const(np.float32(v), "bound") if np.isfinite(v) else "" for v in (lo, hi)]
        while bounds and bounds[-1] == "":
            bounds.pop()
        out = b.op("Clip", [x, *bounds])
        b.clips[out] = (x, lo, hi, node["name"])
        return out
    return None


def _node(b: _Builder, node: dict, name: str) -> str:
    op = node["op"]
    ins = _data_inputs(node)
    if name in b.prelu:
        x, alpha = b.prelu[name]
        return b.op("PRelu", [b.value(x), b.value(alpha)])
    if op in ("Minimum", "Maximum"):
        clipped = _clip(b, node, ins)
        if clipped is not None:
            return clipped
    if op in _BINARY:
        if op == "BiasAdd":
            _check_nhwc(node)
        return b.op(_BINARY[op], [b.value(ins[0]), b.value(ins[1])])
    if op == "Relu":
        x = b.value(ins[0])
        out = b.op("Relu", [x])
        b.clips[out] = (x, 0.0, np.inf, name)
        return out
    if op in _UNARY:
        return b.op(_UNARY[op], [b.value(ins[0])])
    if op == "Relu6":
        return _activation(b, b.value(ins[0]), "relu6", node, [])
    if op == "Elu":
        return b.op("Elu", [b.value(ins[0])], alpha=1.0)
    if op == "LeakyRelu":
        return b.op("LeakyRelu", [b.value(ins[0])], alpha=float(_attr(node, "alpha", 0.2)))
    if op == "Prelu":
        return b.op("PRelu", [b.value(ins[0]), b.value(ins[1])])
    if op == "Softmax":
        return b.op("Softmax", [b.value(ins[0])], axis=-1)
    if op in ("Conv2D", "_FusedConv2D"):
        return _conv(b, node, depthwise=False)
    if op in ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
        return _conv(b, node, depthwise=True)
    if op == "MaxPool":
        return _pool(b, node, "MaxPool")
    if op == "AvgPool":
        return _pool(b, node, "AveragePool")
    if op in ("MatMul", "_FusedMatMul"):
        return _matmul(b, node)
    if op == "Mean":
        axes = [int(a) for a in np.atleast_1d(b.constant_of(ins[1], node))]
        keep = 1 if _attr(node, "keep_dims", False) else 0
        return b.op("ReduceMean", [b.value(ins[0])], axes=axes, keepdims=keep)
    if op in ("Pad", "PadV2"):
        pads = b.constant_of(ins[1], node).astype(np.int64)
        onnx_pads = np.concatenate([pads[:, 0], pads[:, 1]])
        inputs = [b.value(ins[0]), b.const(onnx_pads, "pads")]
        if op == "PadV2":
            inputs.append(b.const(b.constant_of(ins[2], node).astype(np.float32).reshape(())))
        return b.op("Pad", inputs, mode="constant")
    if op == "Reshape":
        shape = b.constant_of(ins[1], node).astype(np.int64).reshape(-1)
        return b.op("Reshape", [b.value(ins[0]), b.const(shape, "shape")], allowzero=1)
    raise UnsupportedOpError(op, name)


def convert(
    model: TfjsModel,
    outputs: Sequence[str],
    *,
    name: str = "tfjs_model",
    output_names: Sequence[str] | None = None,
):
    """An onnx.ModelProto computing `outputs` (TF node names, ":0" allowed) from the
    model's Placeholders (float32 NHWC, batch dynamic). ONNX outputs are named
    `output_names` (default: the TF names). Raises UnsupportedOpError for unknown ops."""
    import onnx
    from onnx import TensorProto

    b = _Builder(model)
    output_names = list(output_names or [_tensor_name(o) for o in outputs])
    if len(output_names) != len(outputs):
        raise ValueError("one output name per output")
    order = _order(model, outputs)
    for name_ in order:
        for ref in _data_inputs(model.nodes[name_]):
            b.consumers[_tensor_name(ref)] = b.consumers.get(_tensor_name(ref), 0) + 1
    for ref in outputs:
        b.consumers[_tensor_name(ref)] = b.consumers.get(_tensor_name(ref), 0) + 1
    _plan_fusions(b, order)
    for name_ in order:
        if name_ in b.skip:
            continue
        node = model.nodes[name_]
        op = node["op"]
        if op == "Placeholder":
            dims = [d.get("size", "-1") for d in _attr_shape(node)]
            shape = [
                int(d) if int(d) >= 0 else ("n" if i == 0 else f"d{i}") for i, d in enumerate(dims)
            ]
            b.inputs.append(b.helper.make_tensor_value_info(name_, TensorProto.FLOAT, shape))
            b.values[name_] = name_
        elif op != "Const":
            b.values[name_] = _node(b, node, name_)
    outs = []
    for ref, out_name in zip(outputs, output_names, strict=True):
        b.op("Identity", [b.value(ref)], out=out_name)
        outs.append(b.helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None))
    graph = b.helper.make_graph(b.nodes, name, b.inputs, outs, b.initializers)
    result = b.helper.make_model(
        graph, opset_imports=[b.helper.make_opsetid("", OPSET)], producer_name="openlfr.convert"
    )
    # Output shapes were not declared; shape inference fills them in for the checker.
    result = onnx.shape_inference.infer_shapes(result, strict_mode=True)
    onnx.checker.check_model(result)
    return result


def _attr_shape(node: dict) -> list[dict]:
    shape = node.get("attr", {}).get("shape", {}).get("shape", {})
    return shape.get("dim", [])


def convert_file(
    model_json: Path, outputs: Sequence[str], output_names: Sequence[str] | None = None
) -> bytes:
    """Serialized ONNX of a model.json (and its shards) on disk."""
    model = load(model_json)
    return convert(
        model, outputs, name=Path(model_json).stem, output_names=output_names
    ).SerializeToString()
