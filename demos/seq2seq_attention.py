"""Seq2seq with and without attention: exact-match accuracy vs sequence length.

Task (data/sequences.py): reverse a random string of symbols, e.g. 7 3 9 -> 9 3 7. Both
models have the same bidirectional GRU encoder and GRU decoder and the same training budget
(Adam, teacher forcing, gradient clipping); they differ only in what the decoder sees:

    without attention  one vector, the encoder's final states: the whole string squeezed in
    with attention     every encoder annotation h_j again at every step, weighted by a_tj

Greedy decoding, then exact match (every symbol and the EOS right) on held-out strings,
grouped by length. The attention weights also show HOW it solves the task: to emit output
step t of a reversed string of length n it should look at source position n - 1 - t;
"alignment" is the fraction of output steps whose largest weight is on that position.
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import nn
from tinygrad_course.data.sequences import make_seq2seq_task
from tinygrad_course.models.seq2seq import Seq2Seq, exact_match


def train(model, data, steps, batch, lr, seed):
    opt = tg.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    n = len(data["src_lengths"])
    for _ in range(steps):
        rows = rng.integers(0, n, size=batch)
        longest = int(data["src_lengths"][rows].max())  # trim the batch's padding
        loss = model.loss(data["src"][rows, :longest], data["src_lengths"][rows],
                          data["tgt_in"][rows, :longest + 1], data["tgt_out"][rows, :longest + 1])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return loss.item()


def evaluate(model, data, max_len):
    """Exact match overall and per source length; alignment of the attention (reversal)."""
    predicted, attention = model.greedy_decode(data["src"], data["src_lengths"], max_len + 1,
                                               return_attention=True)
    lengths = data["src_lengths"]
    by_length = {}
    for n in np.unique(lengths):
        rows = np.nonzero(lengths == n)[0]
        by_length[int(n)] = exact_match(predicted[rows], [data["targets"][i] for i in rows])
    alignment = None
    if attention is not None:  # output step t of a length-n string should look at n - 1 - t
        hits = total = 0
        for row, n in enumerate(lengths):
            steps = min(n, attention.shape[1])
            looked = attention[row, :steps].argmax(axis=1)
            hits += int((looked == n - 1 - np.arange(steps)).sum())
            total += n
        alignment = hits / total
    return exact_match(predicted, data["targets"]), by_length, alignment


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    parser.add_argument("--task", default="reverse", choices=["reverse", "copy", "sort"])
    args = parser.parse_args(argv)
    if args.quick:
        max_len, hidden, steps, cells, n_test = 6, 32, 150, ["gru"], 600
    else:
        max_len, hidden, steps, cells, n_test = 12, 64, 3000, ["gru", "lstm"], 2000
    train_data = make_seq2seq_task(20_000, 1, max_len, task=args.task, seed=0)
    test_data = make_seq2seq_task(n_test, 1, max_len, task=args.task, seed=1)
    vocab = train_data["vocab_size"]
    print(f"Task: {args.task} strings of 1..{max_len} symbols (10 kinds); bidirectional "
          f"encoder, hidden {hidden}, {steps} Adam steps of batch 32, teacher forcing")
    results, table = {"max_len": max_len}, {}
    for cell in cells:
        for attention in (False, True):
            name = f"{cell}_{'attention' if attention else 'plain'}"
            model = Seq2Seq(vocab, vocab, embed_dim=16, hidden_size=hidden, cell=cell,
                            attention=attention, seed=0)
            start = time.process_time()
            loss = train(model, train_data, steps, batch=32, lr=3e-3, seed=0)
            accuracy, by_length, alignment = evaluate(model, test_data, max_len)
            table[name] = by_length
            results[f"{name}_exact_match"] = accuracy
            results[f"{name}_longest"] = by_length[max_len]
            if alignment is not None:
                results[f"{name}_alignment"] = alignment
            print(f"   {name:<15} final train loss {loss:.3f} ({time.process_time() - start:.1f} s"
                  f" CPU): exact match {accuracy:.3f}"
                  + ("" if alignment is None else f", attention alignment {alignment:.3f}"))
    print("Exact match by source length:")
    lengths = range(1, max_len + 1)
    print("   " + f"{'length':<15}" + "".join(f"{n:>6}" for n in lengths))
    for name, by_length in table.items():
        print("   " + f"{name:<15}" + "".join(f"{by_length[n]:6.2f}" for n in lengths))

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, by_length in table.items():
            ax.plot(list(by_length), list(by_length.values()), marker="o", label=name)
        ax.set_xlabel("source length")
        ax.set_ylabel("exact match")
        ax.set_title(f"seq2seq, {args.task}")
        ax.legend()
        print("figure:", _plotting.save(fig, "seq2seq_attention"))
    return results


if __name__ == "__main__":
    main()
