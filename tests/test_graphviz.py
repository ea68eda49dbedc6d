"""to_dot: the graph backward will walk, as Graphviz DOT text."""

import re

import numpy as np
import pytest

import tinygrad_course as tg


def _nodes(dot, shape):
    return re.findall(rf'(\w+) \[label="([^"]*)", shape={shape}', dot)


def test_dot_shows_every_op_and_tensor_once_with_arrows_in_forward_direction():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    w = tg.tensor([[0.5], [0.25]], requires_grad=True)
    x.name, w.name = "x", "w"
    hidden = (x @ w).tanh()
    loss = (hidden * hidden + hidden).sum()  # hidden is used three times
    dot = tg.to_dot(loss)

    assert dot.startswith("digraph computation {") and dot.rstrip().endswith("}")
    ops = sorted(label for _, label in _nodes(dot, "box"))
    assert ops == ["Add", "MatMul", "Mul", "Sum", "Tanh"]
    tensors = [label for _, label in _nodes(dot, "ellipse")]
    assert len(tensors) == 7  # x, w, x@w, tanh, hidden*hidden, +hidden, sum
    assert "x\\n(1, 2) float32" in tensors and "w\\n(2, 1) float32" in tensors
    assert "() float32" in tensors  # the loss

    node = {label: name for name, label in _nodes(dot, "box") + _nodes(dot, "ellipse")}
    x_node = node["x\\n(1, 2) float32"]
    assert f"{x_node} -> {node['MatMul']};" in dot
    assert f"{node['MatMul']} -> " in dot
    edges = re.findall(r"(\w+) -> (\w+);", dot)
    assert len(edges) == len(set(edges)) + 1  # hidden * hidden: one edge drawn twice
    assert sum(1 for a, b in edges if b == node["Mul"]) == 2


def test_leaves_that_require_grad_are_highlighted_and_constants_are_not():
    x = tg.tensor([1.0], requires_grad=True)
    constant = tg.tensor([2.0])
    dot = tg.to_dot(x * constant)
    assert dot.count("fillcolor=lightblue") == 1


def test_a_tensor_without_history_is_a_single_node():
    dot = tg.to_dot(tg.tensor(np.zeros((2, 3))))
    assert len(_nodes(dot, "ellipse")) == 1 and "->" not in dot and "shape=box" not in dot


def test_to_dot_wants_a_tensor():
    with pytest.raises(TypeError, match="to_dot: expected a Tensor, got list"):
        tg.to_dot([1.0])
