"""Text convolution vs bag of words, on a task where word order matters.

Sentences of filler words with one opinion word ("good", "awful", ...), negated ("not good")
half of the time, and half of the time with a stray "not" somewhere else that negates
nothing (data/sequences.py, make_negation_task). Label = positive or negative.

    bag of words   word counts -> MLP: knows THAT "not" occurs, not WHERE. With exactly one
                   "not" it cannot tell "not good" from "good ... not", so no order-blind
                   classifier can beat 3/4 here (printed below, in theory and on the test set)
    text CNN       filters over 2 and 3 consecutive words + max over time: "not good" is one
                   pattern, found wherever it is (the lecture: convolution uses part of the
                   word order)

Both are trained the same way (Adam, same epochs, batch 32) and scored on held-out sentences.
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F
from tinygrad_course.data.sequences import (
    build_vocabulary,
    encode_sentences,
    make_negation_task,
)
from tinygrad_course.models.text_cnn import BagOfWords, TextCNN


def order_blind_rule_accuracy(sentences, labels):
    """Accuracy of the best order-blind rule: no "not" -> the word's polarity, two -> flipped,
    one -> bet on the polarity (right half of the time in expectation)."""
    from tinygrad_course.data.sequences import NEGATION_WORDS

    positive = set(NEGATION_WORDS["positive"])
    nots = np.array([s.count("not") for s in sentences])
    polarity = np.array([any(w in positive for w in s) for s in sentences])
    guess = np.where(nots == 2, ~polarity, polarity)
    return float((guess == labels.astype(bool)).mean())


def train(model, ids, lengths, labels, epochs, lr, seed):
    opt = tg.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(labels), 32):
            rows = order[start:start + 32]
            longest = int(lengths[rows].max())
            loss = F.cross_entropy(model(ids[rows, :longest], lengths[rows]),
                                   tg.tensor(labels[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()


def accuracy(model, ids, lengths, labels):
    model.eval()
    with tg.no_grad():
        predicted = model(ids, lengths).numpy().argmax(axis=1)
    model.train()
    return float((predicted == labels).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n_train, n_test, epochs = (1000, 2000, 8) if args.quick else (5000, 5000, 15)
    train_sentences, train_labels, ceiling = make_negation_task(n_train, seed=0)
    test_sentences, test_labels, _ = make_negation_task(n_test, seed=1)
    vocab = build_vocabulary(train_sentences)
    train_ids, train_lengths = encode_sentences(train_sentences, vocab)
    test_ids, test_lengths = encode_sentences(test_sentences, vocab)
    rule = order_blind_rule_accuracy(test_sentences, test_labels)
    print(f"{n_train} training / {n_test} test sentences, vocabulary {len(vocab)}; e.g. "
          f"'{' '.join(test_sentences[0])}' -> {test_labels[0]}")
    print(f"Best possible for ANY bag of words: {ceiling:.3f} in expectation; the best order-blind "
          f"rule scores {rule:.3f} on this test set")
    models = {
        "bag_of_words": BagOfWords(len(vocab), 2, hidden_size=32, seed=0),
        "text_cnn": TextCNN(len(vocab), 2, embed_dim=16, num_filters=16, kernel_sizes=(2, 3),
                            seed=0),
    }
    results = {"order_blind_ceiling": ceiling, "order_blind_rule_test": rule}
    for name, model in models.items():
        start = time.process_time()
        train(model, train_ids, train_lengths, train_labels, epochs, lr=0.01, seed=0)
        results[f"{name}_train"] = accuracy(model, train_ids, train_lengths, train_labels)
        results[f"{name}_test"] = accuracy(model, test_ids, test_lengths, test_labels)
        print(f"   {name:<13} train accuracy {results[f'{name}_train']:.3f}, test accuracy "
              f"{results[f'{name}_test']:.3f}  ({model.num_parameters()} parameters, "
              f"{time.process_time() - start:.1f} s CPU)")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(5, 4))
        names = list(models)
        ax.bar(names, [results[f"{n}_test"] for n in names], color=["gray", "tab:blue"])
        ax.axhline(ceiling, ls="--", c="k", label="order-blind ceiling")
        ax.set_ylim(0.4, 1.0)
        ax.set_ylabel("test accuracy")
        ax.legend()
        print("figure:", _plotting.save(fig, "text_cnn"))
    return results


if __name__ == "__main__":
    main()
