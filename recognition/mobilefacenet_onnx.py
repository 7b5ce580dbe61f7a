"""Build an ONNX graph of facesdk's MobileFaceNet from its state dict, with BatchNorm folded.

The architecture mirrors ``facesdk/mobilefacenet.py`` (MobileNetV2-style inverted residuals,
a 7×7 global depthwise conv and a 128-d linear embedding). It is rebuilt here with the ``onnx``
package so that no PyTorch is needed, neither to convert nor to run. Every BatchNorm that follows
a convolution is folded into that convolution's weights and bias (``onnx_graph.GraphBuilder``),
which leaves a graph of Conv, Clip (ReLU6), Relu, Add and Flatten nodes.

Input ``input``: float32 ``(N, 3, 112, 112)``, an aligned face crop scaled to [0, 1] and
normalised with the ImageNet mean and std, channels in the order the encoder documents.
Output ``embedding``: float32 ``(N, 128)``, not normalised.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .onnx_graph import GraphBuilder

__all__ = ["INVERTED_RESIDUAL_SETTING", "build_mobilefacenet_onnx"]

# (expansion t, output channels c, repeats n, first stride s), as in facesdk/mobilefacenet.py
INVERTED_RESIDUAL_SETTING = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))
_OPSET = 13


def _conv_bn_relu6(g: GraphBuilder, x: str, prefix: str, stride: int, groups: int) -> str:
    k = g.state[prefix + ".0.weight"].shape[2]
    return g.relu6(g.conv_bn(x, prefix + ".0", prefix + ".1", stride, groups, (k - 1) // 2))


def build_mobilefacenet_onnx(state: Mapping[str, np.ndarray]) -> bytes:
    """Serialise MobileFaceNet with the given weights as an ONNX model.

    Args:
        state: the state dict (name → numpy array) of ``facesdk.mobilefacenet.MobileFaceNet``.

    Returns:
        The ONNX model as bytes (about 4 MB), checked with ``onnx.checker``.

    Raises:
        KeyError: a weight the architecture needs is missing.
        ValueError: a weight has an unexpected shape.
    """
    import onnx

    g = GraphBuilder(state)
    x = _conv_bn_relu6(g, "input", "conv1", stride=2, groups=1)
    x = g.relu(g.conv_bn(x, "dw_conv.depthwise", "dw_conv.bn1", 1, 64, 1))
    x = g.relu(g.conv_bn(x, "dw_conv.pointwise", "dw_conv.bn2", 1, 1, 0))
    in_ch, index = 64, 0
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(in_ch * t))
            p = f"features.{index}.conv"
            y = x
            j = 0
            if t != 1:
                y = _conv_bn_relu6(g, y, f"{p}.{j}", 1, 1)
                j += 1
            y = _conv_bn_relu6(g, y, f"{p}.{j}", stride, hidden)
            y = g.conv_bn(y, f"{p}.{j + 1}", f"{p}.{j + 2}", 1, 1, 0)
            if state[f"{p}.{j + 1}.weight"].shape != (c, hidden, 1, 1):
                raise ValueError(f"unexpected shape for {p}.{j + 1}.weight")
            x = g.add(x, y) if stride == 1 and in_ch == c else y
            in_ch, index = c, index + 1
    x = _conv_bn_relu6(g, x, "conv2", 1, 1)
    x = g.conv_bn(x, "gdconv.depthwise", "gdconv.bn", 1, 512, 0)
    x = g.conv_bn(x, "conv3", "bn", 1, 1, 0)
    g.nodes.append(onnx.helper.make_node("Flatten", [x], ["embedding"], axis=1))
    graph = onnx.helper.make_graph(
        g.nodes,
        "mobilefacenet",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 3, 112, 112])],
        [onnx.helper.make_tensor_value_info("embedding", onnx.TensorProto.FLOAT, ["N", 128])],
        g.initializers,
    )
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", _OPSET)], producer_name="skilltrace.recognition"
    )
    model.ir_version = 8  # readable by any onnxruntime >= 1.17
    onnx.checker.check_model(model)
    return model.SerializeToString()
