"""The shipped int8 model computed the same way on every CPU: its integer products done in fp32.

``model_int8.onnx`` quantises the activations at run time (``DynamicQuantizeLinear``) and
multiplies them by the int8 weights (``MatMulInteger`` → ``Cast`` → ``Mul`` by the two scales).
onnxruntime does that product with u8×s8 kernels whose AVX2 form (CPUs without AVX-512 VNNI)
saturates 16-bit intermediate sums (onnxruntime issue #6004): on such a CPU a text got a vector
at cosine 0.992 from the one a VNNI machine computes, so the help centre's shipped vectors, and
which passage a question found, changed from one machine to the next. Here each
``MatMulInteger`` becomes ``(x_q − x_zero) @ W_q`` in fp32 (the weights' zero points are 0):
the same quantisation and scales, with integer products that fp32 holds exactly up to 2^24
(a 384-term product of |x| ≤ 255 and |W| ≤ 127 stays below it; only the 1,536-term ones could,
in theory, round their last bit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import NodeProto, helper, numpy_helper


def load_exact_int8(model_file: Path) -> bytes:
    """The serialised ``model_file`` with its integer matrix products done in fp32."""
    model = onnx.load(str(model_file))
    graph = model.graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    consumers: dict[str, list[NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    nodes: list[NodeProto] = []
    replaced: set[str] = set()
    for node in graph.node:
        if node.output and node.output[0] in replaced:
            continue
        if node.op_type != "MatMulInteger":
            nodes.append(node)
            continue
        cast = _only(consumers[node.output[0]], "Cast")
        activation, weight, activation_zero, weight_zero = node.input
        centred = numpy_helper.to_array(weights[weight]).astype(np.float32)
        centred -= numpy_helper.to_array(weights[weight_zero]).astype(np.float32)
        matrix = numpy_helper.from_array(centred, f"{weight}_float")
        graph.initializer.append(matrix)
        name = node.output[0]
        nodes += [
            helper.make_node("Cast", [activation], [f"{name}_x"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Cast", [activation_zero], [f"{name}_z"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Sub", [f"{name}_x", f"{name}_z"], [f"{name}_centred"]),
            helper.make_node("MatMul", [f"{name}_centred", matrix.name], [cast.output[0]]),
        ]
        replaced.add(cast.output[0])
    del graph.node[:]
    graph.node.extend(nodes)
    needed = {name for node in graph.node for name in node.input}
    for tensor in [t for t in graph.initializer if t.name not in needed]:
        graph.initializer.remove(tensor)
    return model.SerializeToString()


def _only(nodes: list[NodeProto], op_type: str) -> NodeProto:
    if len(nodes) != 1 or nodes[0].op_type != op_type:
        raise ValueError(f"the quantised graph is not MatMulInteger → {op_type} as expected")
    return nodes[0]
