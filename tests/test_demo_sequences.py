"""Lecture 5 as demos: each --quick run must show the claim its lecture makes."""

from demos import long_memory, seq2seq_attention, text_cnn, vanishing_gradients


def test_rnn_gradients_vanish_or_explode_and_open_gates_keep_them():
    r = vanishing_gradients.main(["--quick", "--no-plot"])
    # at PyTorch's init every gate is half open: all three lose the gradient exponentially
    for kind in ("rnn", "lstm", "gru"):
        assert r[f"{kind}_init_kept"] < 1e-4
        assert r[f"{kind}_init_factor"] < 0.8
    # ... the plain RNN fastest
    assert r["rnn_init_factor"] < min(r["lstm_init_factor"], r["gru_init_factor"])
    # an RNN can only shrink (|W_hh| < 1) or blow up (|W_hh| > 1) the gradient ...
    assert r["rnn_gamma0.5_kept"] < 1e-8
    assert r["rnn_gamma2_kept"] > 10
    # ... while an open forget / update gate carries it across the whole sequence
    assert r["lstm_forget5_kept"] > 0.1
    assert r["gru_update5_kept"] > 0.1


def test_lstm_and_gru_learn_the_adding_problem_and_the_rnn_does_not():
    r = long_memory.main(["--quick", "--no-plot"])
    for kind in ("lstm", "gru"):
        assert r[f"{kind}_mse"] < 0.05  # far below 1/12, the best without the first number
        assert r[f"{kind}_d_first"] > 0.5  # the answer moves with the first marked number
    assert r["rnn_mse"] > long_memory.SECOND_ONLY_MSE  # it does not carry the first number
    assert abs(r["rnn_d_first"]) < 0.1


def test_attention_beats_a_single_vector_on_longer_sequences():
    r = seq2seq_attention.main(["--quick", "--no-plot"])
    assert r["gru_attention_exact_match"] > 0.8
    assert r["gru_attention_exact_match"] > r["gru_plain_exact_match"] + 0.3
    assert r["gru_attention_longest"] > 0.5 > r["gru_plain_longest"] + 0.2
    assert r["gru_attention_alignment"] > 0.8  # it looks at source position n - 1 - t


def test_text_cnn_uses_word_order_that_a_bag_of_words_cannot_see():
    r = text_cnn.main(["--quick", "--no-plot"])
    assert r["text_cnn_test"] > 0.95
    assert r["bag_of_words_test"] < r["order_blind_rule_test"] + 0.04  # at the ceiling, no more
    assert r["text_cnn_test"] > r["bag_of_words_test"] + 0.15
