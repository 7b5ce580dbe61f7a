"""A small helper that writes convolutional nets as ONNX graphs from a PyTorch-style state dict.

Shared by ``mobilefacenet_onnx`` and ``retinaface_onnx``: each BatchNorm that follows a
convolution is folded into that convolution's weights and bias, so the graphs hold only Conv,
activations and a few shape operators. Only the ``onnx`` package is needed (no PyTorch), and only
when a graph is generated.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["BN_EPS", "GraphBuilder"]

BN_EPS = 1e-5


class GraphBuilder:
    """Collects nodes and initialisers; each method appends a node and returns its output name."""

    def __init__(self, state: Mapping[str, np.ndarray]) -> None:
        import onnx.helper  # imported lazily: only needed when an ONNX file is generated
        import onnx.numpy_helper

        self._helper = onnx.helper
        self._numpy_helper = onnx.numpy_helper
        self.state = state
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def fresh(self, prefix: str) -> str:
        """A new unique tensor name starting with ``prefix``."""
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, name: str, value: np.ndarray, dtype=np.float32) -> str:
        """An initialiser called ``name`` holding ``value``."""
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(value, dtype=dtype), name))
        return name

    def weight(self, key: str) -> np.ndarray:
        """A weight of the state dict as float64.

        Raises:
            KeyError: the weight is missing.
        """
        if key not in self.state:
            raise KeyError(f"weight {key} missing from the state dict")
        return np.asarray(self.state[key], dtype=np.float64)

    def conv_bn(self, x: str, conv: str, bn: str | None, stride: int, groups: int, pad: int) -> str:
        """Conv (optionally with its own bias) followed by a folded BatchNorm."""
        w = self.weight(conv + ".weight")
        b = self.weight(conv + ".bias") if conv + ".bias" in self.state else np.zeros(w.shape[0])
        if bn is not None:
            gamma, beta = self.weight(bn + ".weight"), self.weight(bn + ".bias")
            mean, var = self.weight(bn + ".running_mean"), self.weight(bn + ".running_var")
            scale = gamma / np.sqrt(var + BN_EPS)
            w = w * scale[:, None, None, None]
            b = (b - mean) * scale + beta
        k = w.shape[2]
        out = self.fresh(conv.replace(".", "_"))
        self.nodes.append(
            self._helper.make_node(
                "Conv",
                [x, self.const(out + "_w", w), self.const(out + "_b", b)],
                [out],
                kernel_shape=[k, w.shape[3]],
                strides=[stride, stride],
                pads=[pad, pad, pad, pad],
                group=groups,
            )
        )
        return out

    def op(self, op_type: str, inputs: list[str], prefix: str | None = None, **attrs) -> str:
        """Any single-output node."""
        out = self.fresh(prefix or op_type.lower())
        self.nodes.append(self._helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def relu6(self, x: str) -> str:
        out = self.fresh("relu6")
        lo = self.const(out + "_lo", np.array(0.0))
        hi = self.const(out + "_hi", np.array(6.0))
        self.nodes.append(self._helper.make_node("Clip", [x, lo, hi], [out]))
        return out

    def relu(self, x: str) -> str:
        return self.op("Relu", [x])

    def leaky(self, x: str, slope: float) -> str:
        """LeakyReLU; a slope of 0 is a plain ReLU."""
        return self.op("LeakyRelu", [x], alpha=float(slope)) if slope else self.relu(x)

    def add(self, a: str, b: str) -> str:
        return self.op("Add", [a, b])
