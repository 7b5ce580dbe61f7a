"""Build an ONNX graph of facesdk's MobileFaceNet from its state dict, with BatchNorm folded.

The architecture mirrors ``facesdk/mobilefacenet.py`` (MobileNetV2-style inverted residuals,
a 7×7 global depthwise conv and a 128-d linear embedding). It is rebuilt here with the ``onnx``
package so that no PyTorch is needed, neither to convert nor to run. Every BatchNorm that follows
a convolution is folded into that convolution's weights and bias, which leaves a graph of Conv,
Clip (ReLU6), Relu, Add and Flatten nodes.

Input ``input``: float32 ``(N, 3, 112, 112)``, an aligned face crop scaled to [0, 1] and
normalised with the ImageNet mean and std, channels in the order the encoder documents.
Output ``embedding``: float32 ``(N, 128)``, not normalised.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["INVERTED_RESIDUAL_SETTING", "build_mobilefacenet_onnx"]

# (expansion t, output channels c, repeats n, first stride s), as in facesdk/mobilefacenet.py
INVERTED_RESIDUAL_SETTING = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))
_BN_EPS = 1e-5
_OPSET = 13


class _GraphBuilder:
    def __init__(self, state: Mapping[str, np.ndarray]) -> None:
        import onnx.helper  # imported lazily: only needed when the ONNX file is generated

        self._helper = onnx.helper
        self._numpy_helper = __import__("onnx.numpy_helper", fromlist=["from_array"])
        self.state = state
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def _const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def _weight(self, key: str) -> np.ndarray:
        if key not in self.state:
            raise KeyError(f"weight {key} missing from the state dict")
        return np.asarray(self.state[key], dtype=np.float64)

    def conv_bn(self, x: str, conv: str, bn: str | None, stride: int, groups: int, pad: int) -> str:
        """Conv (optionally with its own bias) followed by a folded BatchNorm."""
        w = self._weight(conv + ".weight")
        b = self._weight(conv + ".bias") if conv + ".bias" in self.state else np.zeros(w.shape[0])
        if bn is not None:
            gamma, beta = self._weight(bn + ".weight"), self._weight(bn + ".bias")
            mean, var = self._weight(bn + ".running_mean"), self._weight(bn + ".running_var")
            scale = gamma / np.sqrt(var + _BN_EPS)
            w = w * scale[:, None, None, None]
            b = (b - mean) * scale + beta
        k = w.shape[2]
        out = self._name(conv.replace(".", "_"))
        self.nodes.append(
            self._helper.make_node(
                "Conv",
                [x, self._const(out + "_w", w), self._const(out + "_b", b)],
                [out],
                kernel_shape=[k, w.shape[3]],
                strides=[stride, stride],
                pads=[pad, pad, pad, pad],
                group=groups,
            )
        )
        return out

    def relu6(self, x: str) -> str:
        out = self._name("relu6")
        lo = self._const(out + "_lo", np.array(0.0))
        hi = self._const(out + "_hi", np.array(6.0))
        self.nodes.append(self._helper.make_node("Clip", [x, lo, hi], [out]))
        return out

    def relu(self, x: str) -> str:
        out = self._name("relu")
        self.nodes.append(self._helper.make_node("Relu", [x], [out]))
        return out

    def add(self, a: str, b: str) -> str:
        out = self._name("add")
        self.nodes.append(self._helper.make_node("Add", [a, b], [out]))
        return out

    def conv_bn_relu6(self, x: str, prefix: str, stride: int, groups: int) -> str:
        k = self.state[prefix + ".0.weight"].shape[2]
        return self.relu6(self.conv_bn(x, prefix + ".0", prefix + ".1", stride, groups, (k - 1) // 2))


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

    g = _GraphBuilder(state)
    x = g.conv_bn_relu6("input", "conv1", stride=2, groups=1)
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
                y = g.conv_bn_relu6(y, f"{p}.{j}", 1, 1)
                j += 1
            y = g.conv_bn_relu6(y, f"{p}.{j}", stride, hidden)
            y = g.conv_bn(y, f"{p}.{j + 1}", f"{p}.{j + 2}", 1, 1, 0)
            if state[f"{p}.{j + 1}.weight"].shape != (c, hidden, 1, 1):
                raise ValueError(f"unexpected shape for {p}.{j + 1}.weight")
            x = g.add(x, y) if stride == 1 and in_ch == c else y
            in_ch, index = c, index + 1
    x = g.conv_bn_relu6(x, "conv2", 1, 1)
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
