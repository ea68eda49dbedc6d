"""Run the real GPT-2 (124M) in this framework: OpenAI's weights in models.gpt.GPT, OpenAI's
tokenizer in text/bpe.py, and the same next-token probabilities as Hugging Face transformers.

What it needs (download them once into one directory, e.g. ~/gpt2):

    https://huggingface.co/openai-community/gpt2/tree/main
        model.safetensors  (548 MB)   config.json   vocab.json   merges.txt

What it does: loads them (GPT.from_hf, ByteLevelBPE.from_files), prints the five most likely
next tokens of the prompt with their probabilities, continues the prompt greedily and with
top-k sampling, times one forward pass on the CPU (tokens per second), and, when
transformers is installed, loads the same directory into GPT2LMHeadModel and checks that its
top five next tokens and their probabilities are the same (to 1e-4).

    python -m demos.pretrained_gpt2 --weights ~/gpt2 [--prompt "..."] [--tokens 30]
    python -m demos.pretrained_gpt2            no weights: says what to download, then runs
                                               what needs none (--quick's whole path, with
                                               the transformers check, and --benchmark's
                                               timing); the tour's full run is this one
    python -m demos.pretrained_gpt2 --benchmark   GPT-2 124M's shapes with random weights:
                                               the forward-pass timing alone, no download
    python -m demos.pretrained_gpt2 --quick    a small random GPT-2 (built with transformers
                                               when installed, otherwise by this framework)
                                               and a BPE trained here: the whole path, seconds
"""

import argparse
import os
import tempfile
import time

import numpy as np

import tinygrad_course as tg
from tinygrad_course.autograd import no_grad
from tinygrad_course.models.gpt import GPT
from tinygrad_course.text.bpe import ByteLevelBPE

FILES = ("model.safetensors", "config.json", "vocab.json", "merges.txt")
SOURCE = "https://huggingface.co/openai-community/gpt2/tree/main"
PROMPT = "In the beginning God created"
QUICK_TEXT = ("In the beginning God created the heaven and the earth. And the earth was without "
              "form, and void; and darkness was upon the face of the deep. And the Spirit of "
              "God moved upon the face of the waters. And God said, Let there be light: and "
              "there was light. ") * 4


def missing_files(directory):
    return [name for name in FILES
            if directory is None or not os.path.exists(os.path.join(directory, name))]


def explain_download(directory, missing):
    print("pretrained_gpt2: GPT-2's weights and tokenizer are not there"
          + (f" (looked in {directory!r}, missing {missing})" if directory else "") + ".")
    print(f"Download these four files from {SOURCE}")
    for name in FILES:
        print(f"    {name}")
    print("into one directory, then run:  python -m demos.pretrained_gpt2 --weights DIR")


def next_token_table(model, ids, k=5):
    """The k most likely next tokens after ``ids``: (ids, probabilities), most likely first."""
    with no_grad():
        logits = model(np.asarray([ids], dtype=np.int64)).numpy()[0, -1].astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    top = np.argsort(-p, kind="stable")[:k]
    return top, p[top]


def transformers_table(directory, ids, k=5):
    """The same table from transformers' GPT2LMHeadModel (None when it is not installed)."""
    try:
        import torch
        import transformers
    except ImportError:
        return None
    transformers.logging.set_verbosity_error()
    model = transformers.GPT2LMHeadModel.from_pretrained(directory).eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1].double()
    p = torch.softmax(logits, dim=-1).numpy()
    top = np.argsort(-p, kind="stable")[:k]
    return top, p[top]


def time_forward(model, tokens, repeats=1):
    """Tokens per second of one forward pass over ``tokens`` positions (batch 1)."""
    ids = np.arange(tokens, dtype=np.int64)[None] % model.vocab_size
    with no_grad():
        model(ids[:, :8])  # warm up
        start = time.perf_counter()
        for _ in range(repeats):
            model(ids)
        seconds = (time.perf_counter() - start) / repeats
    return tokens / seconds, seconds


def benchmark_124m(tokens):
    """One forward pass of GPT-2 124M's architecture (random weights: the same arithmetic)."""
    model = GPT(50257, 1024, d_model=768, nhead=12, num_layers=12, activation="gelu_tanh",
                tie_weights=True, seed=0).eval()
    rate, seconds = time_forward(model, tokens)
    print(f"GPT-2 124M architecture ({model.num_parameters() / 1e6:.1f}M parameters), one "
          f"forward pass of {tokens} tokens on the CPU: {seconds:.2f} s, {rate:.0f} tokens/s")
    return {"parameters": model.num_parameters(), "tokens_per_second": rate,
            "forward_seconds": seconds}


def build_quick(directory):
    """A random small GPT-2 and a BPE trained here, written to ``directory`` as the four
    files; returns the layout of the weights: "hf" (written by transformers) or "npz"
    (transformers is not installed: written by this framework's GPT with tg.save)."""
    bpe = ByteLevelBPE.train(QUICK_TEXT, vocab_size=256 + 64, min_frequency=2)
    bpe.save(directory)
    sizes = dict(vocab_size=len(bpe), n_positions=64, n_embd=48, n_layer=2, n_head=4)
    try:
        import torch
        import transformers
    except ImportError:
        torch = None
    if torch is not None:
        transformers.logging.set_verbosity_error()
        torch.manual_seed(0)
        config = transformers.GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)
        transformers.GPT2LMHeadModel(config).save_pretrained(directory)
        return "hf"
    model = GPT(sizes["vocab_size"], sizes["n_positions"], sizes["n_embd"], sizes["n_head"],
                sizes["n_layer"], activation="gelu_tanh", tie_weights=True, seed=0)
    tg.save(model.state_dict(), os.path.join(directory, "ours.npz"))
    return "npz"


def load(directory, layout):
    """(model, tokenizer) from the directory (GPT-2's files, or the quick npz fallback)."""
    tokenizer = ByteLevelBPE.from_files(os.path.join(directory, "vocab.json"),
                                        os.path.join(directory, "merges.txt"))
    if layout == "npz":
        model = GPT(len(tokenizer), 64, 48, 4, 2, activation="gelu_tanh", tie_weights=True)
        model.load_state_dict(tg.load(os.path.join(directory, "ours.npz")))
        return model.eval(), tokenizer
    return GPT.from_hf(directory), tokenizer


def run(directory, layout, prompt, new_tokens, top_k, seed, timing_tokens):
    model, tokenizer = load(directory, layout)
    ids = tokenizer.encode(prompt)
    print(f"prompt {prompt!r} -> {len(ids)} tokens {ids}")
    top, probs = next_token_table(model, ids)
    print("next-token distribution (top 5):")
    for i, p in zip(top, probs):
        print(f"    {tokenizer.decode([i])!r:>16}  id {int(i):>5}  p = {p:.4f}")
    result = {"layout": layout, "top5": [int(i) for i in top], "top5_p": probs.tolist()}
    reference = transformers_table(directory, ids) if layout == "hf" else None
    if reference is not None:
        same = bool(np.array_equal(reference[0], top))
        gap = float(np.abs(reference[1] - probs).max())
        print(f"transformers' GPT2LMHeadModel: same top 5 = {same}, max |p - p_hf| = "
              f"{gap:.2e}")
        result.update(matches_transformers=same and gap <= 1e-4, max_prob_gap=gap)
    greedy = model.generate(ids, new_tokens, temperature=0)
    sampled = model.generate(ids, new_tokens, temperature=1.0, top_k=top_k, seed=seed)
    result["greedy"] = tokenizer.decode(greedy)
    result["sampled"] = tokenizer.decode(sampled)
    print(f"greedy:        {result['greedy']!r}")
    print(f"top-{top_k} sample: {result['sampled']!r}")
    rate, seconds = time_forward(model, min(timing_tokens, model.block_size))
    print(f"one forward pass of {min(timing_tokens, model.block_size)} tokens on the CPU: "
          f"{seconds:.3f} s, {rate:.0f} tokens/s")
    result.update(tokens_per_second=rate, forward_seconds=seconds)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", help="directory with " + ", ".join(FILES))
    parser.add_argument("--quick", action="store_true", help="a small random GPT-2 instead")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--tokens", type=int, default=20, help="tokens to generate")
    parser.add_argument("--top-k", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timing-tokens", type=int, default=128)
    parser.add_argument("--benchmark", action="store_true",
                        help="time GPT-2 124M's architecture with random weights")
    args = parser.parse_args(argv)
    if args.benchmark:
        return benchmark_124m(args.timing_tokens)
    if args.quick:
        with tempfile.TemporaryDirectory() as directory:
            layout = build_quick(directory)
            print("--quick: a random GPT-2 (2 layers, width 48) written by "
                  + ("transformers" if layout == "hf" else "this framework (no transformers)")
                  + ", and a byte-level BPE of 320 tokens trained here")
            return run(directory, layout, args.prompt, min(args.tokens, 8), args.top_k,
                       args.seed, min(args.timing_tokens, 64))
    missing = missing_files(args.weights)
    if missing:
        explain_download(args.weights, missing)
        result = {"status": "missing", "missing": missing}
        if args.weights is None:  # the tour's full run: no weights to give it, show the rest
            print("\nmeanwhile, what needs no download: --quick's small random GPT-2 (its "
                  "values below, under --quick's names) and GPT-2 124M's timing")
            with tempfile.TemporaryDirectory() as directory:
                layout = build_quick(directory)
                result.update(run(directory, layout, args.prompt, min(args.tokens, 8),
                                  args.top_k, args.seed, min(args.timing_tokens, 64)))
            result["gpt2_124m_architecture"] = benchmark_124m(args.timing_tokens)
        return result
    return run(args.weights, "hf", args.prompt, args.tokens, args.top_k, args.seed,
               args.timing_tokens)


if __name__ == "__main__":
    main()
