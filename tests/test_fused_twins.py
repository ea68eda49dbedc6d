"""Every fused op equals its composed twin (ops/fused/), op by op and in whole models.

The switch ``tg.use_fused(False)`` makes every entry point run the twin: the same math in
plain Tensor ops, whose backward autograd derives. Here each op is run both ways on random
float64 inputs and must give the same values and the same gradients, and a few training
steps of the MLP, RNN, LSTM, GRU, transformer block, GPT and CLIP must give the same losses
and gradients. The graphs are checked too: the fused run must contain the fused op, and the
twin run none of them, or the comparison would prove nothing.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_course as tg
import tinygrad_course.functional as F
from tinygrad_course import backend, nn
from tinygrad_course.autograd import topological_order
from tinygrad_course.models.clip import CLIP, MLPImageEncoder, TransformerTextEncoder, clip_loss
from tinygrad_course.models.gpt import GPT
from tinygrad_course.ops import fused as fused_package
from tinygrad_course.ops.fused import (
    attention,
    binary_cross_entropy,
    cross_entropy,
    embedding,
    l2_normalize,
    layer_norm,
    linear,
    masked_mean,
    sequence,
    similarity,
    squared_error,
    symmetric_cross_entropy,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
FUSED_OPS = (linear.Linear, layer_norm.LayerNorm, l2_normalize.L2Normalize,
             cross_entropy.SoftmaxCrossEntropy, symmetric_cross_entropy.SymmetricCrossEntropy,
             binary_cross_entropy.BinaryCrossEntropy, squared_error.SquaredError,
             similarity.SimilarityLogits, masked_mean.MaskedMean, embedding.EmbeddingLookup,
             attention.ScaledDotProductAttention, sequence.RNNSequence, sequence.LSTMSequence,
             sequence.GRUSequence)


def ops_in_graph(out):
    return {type(t._ctx) for t in topological_order(out)}


def randn(rng, *shape, requires_grad=True):
    return tg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=requires_grad)


def both_ways(op, inputs, fused_op):
    """op(*inputs) and d sum(v * op) / d input, fused and twin; asserts which ops ran."""
    results = []
    for flag in (True, False):
        with tg.use_fused(flag):
            out = op(*inputs)
        ran = ops_in_graph(out)
        if flag:
            assert fused_op in ran, f"the fused run did not apply {fused_op.__name__}"
        else:
            assert not ran & set(FUSED_OPS), f"the twin run applied {ran & set(FUSED_OPS)}"
        upstream = tg.tensor(np.random.default_rng(7).standard_normal(out.shape), dtype="float64")
        wants = [x for x in inputs if isinstance(x, tg.Tensor) and x.requires_grad]
        grads = tg.grad(out, wants, grad_output=upstream)
        results.append((out.numpy(), [g.numpy() for g in grads]))
    (fused_out, fused_grads), (twin_out, twin_grads) = results
    np.testing.assert_allclose(fused_out, twin_out, **TIGHT)
    for fused_grad, twin_grad in zip(fused_grads, twin_grads):
        np.testing.assert_allclose(fused_grad, twin_grad, **TIGHT)


# ----- the switch itself ---------------------------------------------------------------------
def test_use_fused_is_a_function_and_a_context_manager():
    assert tg.fused_enabled()
    with tg.use_fused(False):
        assert not tg.fused_enabled()
        with tg.use_fused(True):
            assert tg.fused_enabled()
        assert not tg.fused_enabled()
    assert tg.fused_enabled()
    try:
        tg.use_fused(False)
        assert not tg.fused_enabled()
    finally:
        tg.use_fused(True)
    with pytest.raises(tg.TensorError, match="use_fused: expected True or False, got 0"):
        tg.use_fused(0)


def test_the_environment_variable_starts_with_the_twins():
    code = "import tinygrad_course as tg; print(tg.fused_enabled())"
    for value, expected in (("0", "False"), ("1", "True")):
        env = dict(os.environ, TINYGRAD_FUSED=value)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        assert out.stdout.strip() == expected


def test_every_fused_op_file_names_its_twin():
    for op in FUSED_OPS:
        module = sys.modules[op.__module__]
        assert module.__name__.startswith(fused_package.__name__ + ".")
        twins = [name for name in vars(module) if name.endswith("_composed")
                 or name == "run_cells"]
        assert twins, f"{module.__name__} has no composed twin"
        assert all(name in module.__doc__ for name in twins)


# ----- op by op --------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    rng = np.random.default_rng(0)
    x, w, b = randn(rng, 2, 3, 5), randn(rng, 4, 5), randn(rng, 4)
    inputs = (x, w, b) if bias else (x, w)
    both_ways(F.linear, inputs, linear.Linear)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(affine):
    rng = np.random.default_rng(1)
    x = randn(rng, 3, 2, 6)
    if affine:
        gamma, beta = randn(rng, 2, 6), randn(rng, 2, 6)
        both_ways(lambda x, g, b: F.layer_norm(x, (2, 6), g, b), (x, gamma, beta),
                  layer_norm.LayerNorm)
    else:
        both_ways(lambda x: F.layer_norm(x, (6,)), (x,), layer_norm.LayerNorm)


def test_l2_normalize():
    rng = np.random.default_rng(2)
    both_ways(lambda x: l2_normalize.l2_normalize(x, axis=1), (randn(rng, 4, 5),),
              l2_normalize.L2Normalize)


def test_cross_entropy_with_soft_targets_and_class_indices():
    rng = np.random.default_rng(3)
    z = randn(rng, 6, 5)
    y = tg.tensor(rng.dirichlet(np.ones(5), size=6), dtype="float64", requires_grad=True)
    both_ways(lambda z, y: cross_entropy.softmax_cross_entropy(z, y), (z, y),
              cross_entropy.SoftmaxCrossEntropy)
    labels = tg.tensor([0, 4, 2, 2, 1, 3])
    both_ways(lambda z: F.cross_entropy(z, labels, label_smoothing=0.1), (z,),
              cross_entropy.SoftmaxCrossEntropy)


def test_symmetric_cross_entropy():
    rng = np.random.default_rng(4)
    both_ways(symmetric_cross_entropy.symmetric_cross_entropy, (randn(rng, 5, 5),),
              symmetric_cross_entropy.SymmetricCrossEntropy)


def test_binary_cross_entropy_inside_zero_one():
    rng = np.random.default_rng(5)
    p = tg.tensor(rng.uniform(0.05, 0.95, (4, 3)), dtype="float64", requires_grad=True)
    y = tg.tensor(rng.uniform(0, 1, (4, 3)), dtype="float64", requires_grad=True)
    both_ways(binary_cross_entropy.binary_cross_entropy, (p, y),
              binary_cross_entropy.BinaryCrossEntropy)


def test_squared_error_as_mse_loss():
    rng = np.random.default_rng(6)
    both_ways(F.mse_loss, (randn(rng, 3, 4), randn(rng, 3, 4)), squared_error.SquaredError)


@pytest.mark.parametrize("log_scale", [0.5, 3.0])  # below and above the clamp at log 10
def test_similarity_logits(log_scale):
    rng = np.random.default_rng(8)
    tau = tg.tensor(log_scale, dtype="float64", requires_grad=True)
    both_ways(lambda u, v, t: similarity.similarity_logits(u, v, t, np.log(10.0)),
              (randn(rng, 3, 4), randn(rng, 5, 4), tau), similarity.SimilarityLogits)


def test_masked_mean_with_an_empty_row():
    rng = np.random.default_rng(9)
    keep = np.array([[True, False, True], [False, False, False]])
    both_ways(lambda x: masked_mean.masked_mean(x, keep), (randn(rng, 2, 3, 4),),
              masked_mean.MaskedMean)


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding(padding_idx):
    rng = np.random.default_rng(10)
    ids = tg.tensor([[0, 2, 3], [2, 2, 1]])
    both_ways(lambda w: F.embedding(ids, w, padding_idx=padding_idx), (randn(rng, 4, 3),),
              embedding.EmbeddingLookup)


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "dropout"])
def test_scaled_dot_product_attention(mask):
    rng = np.random.default_rng(11)
    q, k, v = randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 6, 5), randn(rng, 2, 3, 6, 2)
    options = {"none": {}, "causal": {"is_causal": True},
               "bool": {"attn_mask": rng.uniform(size=(4, 6)) > 0.3},
               "dropout": {"dropout_p": 0.3, "generator": 5}}
    inputs = [q, k, v]
    if mask == "float":
        inputs.append(randn(rng, 4, 6))

    def op(q, k, v, *bias):
        extra = {"attn_mask": bias[0]} if bias else options[mask]
        return F.scaled_dot_product_attention(q, k, v, **extra)

    both_ways(op, inputs, attention.ScaledDotProductAttention)


def test_packed_self_attention_with_a_padding_mask():
    rng = np.random.default_rng(12)
    qkv = randn(rng, 2, 5, 12)
    allowed = np.ones((2, 1, 1, 5), dtype=bool)
    allowed[1, ..., 3:] = False
    allowed = backend.from_numpy(allowed, qkv.device)  # a mask of the device
    both_ways(lambda qkv: attention.packed_self_attention(qkv, 2, allowed=allowed),
              (qkv,), attention.ScaledDotProductAttention)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_ops_with_padding(kind, reverse):
    rng = np.random.default_rng(13)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    steps, batch, features, hidden = 4, 3, 2, 3
    x, h0 = randn(rng, steps, batch, features), randn(rng, batch, hidden)
    weights = [randn(rng, gates * hidden, features), randn(rng, gates * hidden, hidden),
               randn(rng, gates * hidden), randn(rng, gates * hidden)]
    mask = backend.from_numpy((np.arange(steps)[:, None] < np.array([4, 2, 3])[None, :])
                              [:, :, None], x.device)
    if kind == "lstm":
        c0 = randn(rng, batch, hidden)

        def op(x, h0, c0, *w):
            out, (h, c) = sequence.lstm_sequence(x, h0, c0, *w, mask=mask, reverse=reverse)
            return tg.concatenate([out, h.unsqueeze(0), c.unsqueeze(0)], axis=0)

        both_ways(op, (x, h0, c0, *weights), sequence.LSTMSequence)
        return
    run, fused_op = ((sequence.rnn_sequence, sequence.RNNSequence) if kind == "rnn"
                     else (sequence.gru_sequence, sequence.GRUSequence))

    def op(x, h0, *w):
        out, (h,) = run(x, h0, *w, mask=mask, reverse=reverse)
        return tg.concatenate([out, h.unsqueeze(0)], axis=0)

    both_ways(op, (x, h0, *weights), fused_op)


# ----- whole models, a few training steps -----------------------------------------------------
def train(make_model, loss_of, fused, steps=3):
    """Losses of ``steps`` SGD steps and the gradients of the last one, in float64."""
    model = make_model().double()
    optimizer = tg.optim.SGD(model.parameters(), lr=0.05)
    losses, ran = [], set()
    with tg.use_fused(fused):
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_of(model)
            ran |= ops_in_graph(loss)
            loss.backward()
            losses.append(loss.item())
            grads = [p.grad.numpy().copy() for p in model.parameters()]
            optimizer.step()
    return losses, grads, ran


def same_training(make_model, loss_of, expected_fused_ops):
    fused_losses, fused_grads, fused_ran = train(make_model, loss_of, True)
    twin_losses, twin_grads, twin_ran = train(make_model, loss_of, False)
    assert set(expected_fused_ops) <= fused_ran
    assert not twin_ran & set(FUSED_OPS)
    assert fused_losses[-1] != fused_losses[0]  # the steps changed something
    np.testing.assert_allclose(fused_losses, twin_losses, **TIGHT)
    assert len(fused_grads) == len(twin_grads)
    for fused_grad, twin_grad in zip(fused_grads, twin_grads):
        np.testing.assert_allclose(fused_grad, twin_grad, **TIGHT)


def test_mlp_trains_the_same_both_ways():
    rng = np.random.default_rng(20)
    x = tg.tensor(rng.standard_normal((8, 6)), dtype="float64")
    labels = tg.tensor(rng.integers(0, 3, 8))
    same_training(
        lambda: nn.Sequential(nn.Linear(6, 5, seed=0), nn.ReLU(), nn.Linear(5, 3, seed=1)),
        lambda model: F.cross_entropy(model(x), labels),
        [linear.Linear, cross_entropy.SoftmaxCrossEntropy])


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_train_the_same_both_ways(layer):
    rng = np.random.default_rng(21)
    x = tg.tensor(rng.standard_normal((3, 5, 4)), dtype="float64")  # (B, T, I)
    target = tg.tensor(rng.standard_normal((3, 5, 6)), dtype="float64")
    lengths = [5, 3, 4]
    fused_op = {"RNN": sequence.RNNSequence, "LSTM": sequence.LSTMSequence,
                "GRU": sequence.GRUSequence}[layer]

    def loss_of(model):
        out, _ = model(x, lengths=lengths)
        return F.mse_loss(out, target)

    same_training(lambda: getattr(nn, layer)(4, 3, num_layers=2, batch_first=True,
                                             bidirectional=True, seed=0),
                  loss_of, [fused_op, squared_error.SquaredError])


def test_transformer_block_trains_the_same_both_ways():
    rng = np.random.default_rng(22)
    x = tg.tensor(rng.standard_normal((2, 5, 8)), dtype="float64")
    target = tg.tensor(rng.standard_normal((2, 5, 8)), dtype="float64")
    padding = np.zeros((2, 5), dtype=bool)
    padding[1, 3:] = True
    same_training(
        lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, seed=0),
        lambda block: F.mse_loss(block(x, src_key_padding_mask=padding), target),
        [linear.Linear, layer_norm.LayerNorm, attention.ScaledDotProductAttention])


def test_gpt_trains_the_same_both_ways():
    rng = np.random.default_rng(23)
    tokens = rng.integers(0, 11, (2, 7))
    same_training(lambda: GPT(11, 8, d_model=8, nhead=2, num_layers=2, seed=0),
                  lambda gpt: gpt.loss(tokens[:, :-1], tokens[:, 1:]),
                  [embedding.EmbeddingLookup, attention.ScaledDotProductAttention,
                   layer_norm.LayerNorm, linear.Linear, cross_entropy.SoftmaxCrossEntropy])


def test_clip_trains_the_same_both_ways():
    rng = np.random.default_rng(24)
    images = tg.tensor(rng.standard_normal((4, 1, 4, 4)), dtype="float64")
    ids = tg.tensor(np.array([[3, 5, 2, 0], [4, 4, 0, 0], [7, 1, 6, 2], [2, 0, 0, 0]]))
    same_training(
        lambda: CLIP(MLPImageEncoder((1, 4, 4), width=8, seed=0),
                     TransformerTextEncoder(9, 4, width=8, heads=2, layers=1, seed=1),
                     embed_dim=6, seed=2),
        lambda clip: clip_loss(clip(images, ids)),
        [similarity.SimilarityLogits, masked_mean.MaskedMean,
         symmetric_cross_entropy.SymmetricCrossEntropy, embedding.EmbeddingLookup])
