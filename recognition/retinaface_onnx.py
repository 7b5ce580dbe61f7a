"""Build an ONNX graph of facesdk's RetinaFace (MobileNet-0.25) detector from its state dict.

The architecture mirrors ``facesdk/retinaface/models`` (Deng et al. 2019, "RetinaFace"; the
PyTorch port whose weights facesdk ships as ``weights/mobilenet0.25_Final.pth``): a MobileNetV1
×0.25 backbone whose stride-8, 16 and 32 stages feed a three-level feature pyramid (1×1 lateral
convs, nearest 2× upsampling, 3×3 merges), an SSH context module per level and three 1×1 heads
per level (face score, box offsets, five landmark offsets, two anchors per cell). BatchNorms are
folded into the convolutions (``onnx_graph.GraphBuilder``); no PyTorch is needed.

Input ``input``: float32 ``(1, 3, H, W)``, BGR minus the mean ``(104, 117, 123)`` (no scaling),
H and W multiples of 32 (so every upsampling is exactly 2×; ``detect`` pads the image).
Outputs, one row per anchor in the order ``retinaface_priors`` lists them:
``loc`` ``(1, A, 4)`` box offsets, ``conf`` ``(1, A, 2)`` softmax (background, face),
``landms`` ``(1, A, 10)`` landmark offsets.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from .onnx_graph import GraphBuilder

__all__ = ["MIN_SIZES", "STEPS", "VARIANCES", "build_retinaface_onnx", "decode_detections", "retinaface_priors"]

# cfg_mnet of facesdk/retinaface/data/config.py
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
STEPS = (8, 16, 32)
VARIANCES = (0.1, 0.2)
_OPSET = 13
_LEAKY = 0.1  # MobileNetV1 and, with 64 output channels, the FPN and SSH use LeakyReLU(0.1)
# (module index, stride) of each MobileNetV1 stage; module 0 of stage1 is a plain conv_bn
_STAGES = {"stage1": (2, 1, 2, 1, 2, 1), "stage2": (2, 1, 1, 1, 1, 1), "stage3": (2, 1)}


def _conv_bn_act(g: GraphBuilder, x: str, prefix: str, stride: int = 1, groups: int = 1, slope: float | None = _LEAKY) -> str:
    """``prefix.0`` conv + ``prefix.1`` BatchNorm, then LeakyReLU(``slope``) unless ``slope`` is None."""
    k = g.state[prefix + ".0.weight"].shape[2]
    y = g.conv_bn(x, prefix + ".0", prefix + ".1", stride, groups, (k - 1) // 2)
    return y if slope is None else g.leaky(y, slope)


def _conv_dw(g: GraphBuilder, x: str, prefix: str, stride: int) -> str:
    channels = g.state[prefix + ".0.weight"].shape[0]
    y = g.leaky(g.conv_bn(x, prefix + ".0", prefix + ".1", stride, channels, 1), _LEAKY)
    return g.leaky(g.conv_bn(y, prefix + ".3", prefix + ".4", 1, 1, 0), _LEAKY)


def _ssh(g: GraphBuilder, x: str, prefix: str) -> str:
    c3 = _conv_bn_act(g, x, prefix + ".conv3X3", slope=None)
    c5_1 = _conv_bn_act(g, x, prefix + ".conv5X5_1")
    c5 = _conv_bn_act(g, c5_1, prefix + ".conv5X5_2", slope=None)
    c7_2 = _conv_bn_act(g, c5_1, prefix + ".conv7X7_2")
    c7 = _conv_bn_act(g, c7_2, prefix + ".conv7x7_3", slope=None)
    return g.relu(g.op("Concat", [c3, c5, c7], axis=1))


def _upsample2(g: GraphBuilder, x: str) -> str:
    scales = g.const(g.fresh("scales"), np.array([1.0, 1.0, 2.0, 2.0]))
    return g.op("Resize", [x, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def _head(g: GraphBuilder, features: list[str], name: str, width: int) -> str:
    shape = g.const(name + "_shape", np.array([1, -1, width]), dtype=np.int64)
    parts = []
    for level, x in enumerate(features):
        y = g.conv_bn(x, f"{name}.{level}.conv1x1", None, 1, 1, 0)
        parts.append(g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 3, 1]), shape]))
    return g.op("Concat", parts, axis=1)


def build_retinaface_onnx(state: Mapping[str, np.ndarray]) -> bytes:
    """Serialise RetinaFace (MobileNet-0.25) with the given weights as an ONNX model.

    Args:
        state: the state dict (name → numpy array) of ``facesdk.retinaface.models.RetinaFace``,
            without the ``module.`` prefix of multi-GPU training.

    Returns:
        The ONNX model as bytes (about 1.7 MB), checked with ``onnx.checker``.

    Raises:
        KeyError: a weight the architecture needs is missing.
    """
    import onnx

    g = GraphBuilder(state)
    x, levels = "input", []
    for stage, strides in _STAGES.items():
        for index, stride in enumerate(strides):
            prefix = f"body.{stage}.{index}"
            x = _conv_bn_act(g, x, prefix, stride) if prefix == "body.stage1.0" else _conv_dw(g, x, prefix, stride)
        levels.append(x)
    out1, out2, out3 = (_conv_bn_act(g, levels[i], f"fpn.output{i + 1}") for i in range(3))
    out2 = _conv_bn_act(g, g.add(out2, _upsample2(g, out3)), "fpn.merge2")
    out1 = _conv_bn_act(g, g.add(out1, _upsample2(g, out2)), "fpn.merge1")
    features = [_ssh(g, f, f"ssh{i + 1}") for i, f in enumerate((out1, out2, out3))]
    loc = _head(g, features, "BboxHead", 4)
    scores = _head(g, features, "ClassHead", 2)
    landms = _head(g, features, "LandmarkHead", 10)
    g.nodes.append(onnx.helper.make_node("Identity", [loc], ["loc"]))
    g.nodes.append(onnx.helper.make_node("Softmax", [scores], ["conf"], axis=-1))
    g.nodes.append(onnx.helper.make_node("Identity", [landms], ["landms"]))
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        g.nodes,
        "retinaface_mnet025",
        [value("input", onnx.TensorProto.FLOAT, [1, 3, "H", "W"])],
        [value("loc", onnx.TensorProto.FLOAT, [1, "A", 4]), value("conf", onnx.TensorProto.FLOAT, [1, "A", 2]),
         value("landms", onnx.TensorProto.FLOAT, [1, "A", 10])],
        g.initializers,
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", _OPSET)], producer_name="skilltrace.recognition")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def retinaface_priors(height: int, width: int) -> np.ndarray:
    """The anchors of an input of ``height`` × ``width`` pixels: float32 ``(A, 4)`` centre x, centre y,
    width, height, all as fractions of the input's size (facesdk's ``PriorBox``)."""
    rows = []
    for step, sizes in zip(STEPS, MIN_SIZES):
        fh, fw = -(-height // step), -(-width // step)
        for i, j, size in itertools.product(range(fh), range(fw), sizes):
            rows.append(((j + 0.5) * step / width, (i + 0.5) * step / height, size / width, size / height))
    return np.asarray(rows, dtype=np.float32)


def decode_detections(loc: np.ndarray, landms: np.ndarray, priors: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Turn the net's offsets into pixel boxes ``(A, 4)`` (left, top, right, bottom) and five
    landmarks ``(A, 5, 2)`` of the ``height`` × ``width`` input (facesdk's ``decode``/``decode_landm``)."""
    centre, size = priors[:, :2], priors[:, 2:]
    box_centre = centre + loc[:, :2] * VARIANCES[0] * size
    box_size = size * np.exp(loc[:, 2:] * VARIANCES[1])
    scale = np.array([width, height], dtype=np.float32)
    boxes = np.concatenate([(box_centre - box_size / 2) * scale, (box_centre + box_size / 2) * scale], axis=1)
    points = (centre[:, None, :] + landms.reshape(-1, 5, 2) * VARIANCES[0] * size[:, None, :]) * scale
    return boxes, points
