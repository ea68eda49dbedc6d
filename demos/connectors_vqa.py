"""Three ways to connect a frozen vision encoder to a frozen language model, on visual questions.

The language model is the King James char-level GPT (demos/_pretrained_lm.py), frozen: it has
read the Bible, never an image nor a question about shapes. The vision encoder is a ViT
pretrained to name the colour and the shape in each cell of a shapes image
(demos/_vision_encoder.py), frozen. Between them, only a connector learns
(models/connectors.py):

    text only   8 learned prompt tokens and no image: what the question alone tells
    LLaVA MLP   each of the 17 image features -> one LM token in front of the text
    resampler   8 learned queries read the features (2 layers) -> 8 LM tokens
    Flamingo    a gated cross-attention block before each LM layer, gates tanh(alpha) = 0 at
                the start (the model starts as the frozen LM exactly), no LM positions used

Then LLaVA and Flamingo again with LoRA adapters (rank 4, nn/lora.py) on the LM's attention
output and feed-forward layers, trained together with the connector.

Task (data/vqa.py): "what colour is the square?", "what shape is the red one?", "how many
circles?", "is the triangle left of the circle?"; the LM writes the answer ("red.", "yes.")
greedily, scored by exact match. Test: questions about objects whose colour + shape pair was
never seen (not by the encoder, not by the connector), and a test of seen pairs.

Measured per model: exact-match accuracy per question type (held-out pairs) and overall
(seen pairs), trainable parameters, image tokens per image (LM positions), training time;
and tanh(alpha) of Flamingo's gates over training.

    python -m demos.connectors_vqa           full run (a few minutes; the LM and the encoder
                                             are trained once and cached in demos/output)
    python -m demos.connectors_vqa --quick   seconds
"""

import argparse
import copy

import numpy as np

from demos import _plotting, _progress, _vision_encoder
from demos import _vqa_lm as qa
from demos._pretrained_lm import pretrained_char_gpt
from tinygrad_course.data import vqa
from tinygrad_course.models import connectors as C
from tinygrad_course.models.connectors import trainable_parameters
from tinygrad_course.nn import lora

QUICK = dict(train=800, test=150, steps=60, lora_steps=30)
FULL = dict(train=4000, test=250, steps=600, lora_steps=400)
QUERIES = 8
# Adam's step size: the prefix connectors steer the LM only through its frozen attention
# (weak gradients) and take a larger one; Flamingo's blocks sit in the residual stream.
LEARNING_RATES = {"text only": 1e-2, "LLaVA MLP": 1e-2, "resampler": 1e-2, "Flamingo": 3e-3}
LORA_TARGETS = ("out_proj", "linear1", "linear2")


def build(name, lm, vision_dim):
    d = lm.d_model
    if name == "text only":
        return C.TextOnlyLM(lm, QUERIES, seed=1)
    if name == "LLaVA MLP":
        return C.PrefixLM(lm, C.MLPProjector(vision_dim, d, seed=1))
    if name == "resampler":
        return C.PrefixLM(lm, C.PerceiverResampler(vision_dim, d, num_queries=QUERIES,
                                                   num_layers=2, nhead=4, seed=1))
    return C.FlamingoLM(lm, vision_dim, nhead=4, seed=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--no-lora", action="store_true", help="skip the LoRA runs")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL

    lm, vocab, lm_info = pretrained_char_gpt(quick=args.quick)
    encoder, encoder_info = _vision_encoder.load_encoder(args.quick)
    print(f"frozen LM: KJV char GPT, {lm.num_parameters():,} parameters, validation "
          f"{lm_info['validation_bits_per_char']:.2f} bits/char; frozen ViT: "
          f"{encoder.num_parameters():,} parameters")
    data = {"train": vqa.make_vqa(cfg["train"], "train", seed=0),
            "seen": vqa.make_vqa(cfg["test"], "seen", seed=1),
            "held_out": vqa.make_vqa(cfg["test"], "held_out", seed=2)}
    features = {split: _vision_encoder.features(encoder, d["images"]) for split, d in data.items()}
    num_features, vision_dim = features["train"].shape[1:]
    inputs, targets = qa.encode_qa(vocab, data["train"]["question"], data["train"]["answer"])
    chance = qa.chance_by_type(data["held_out"])
    print(f"{cfg['train']} training questions, {cfg['test']} test questions of seen pairs and "
          f"{cfg['test']} of held-out pairs; always the most frequent answer: "
          + ", ".join(f"{k} {v:.0%}" for k, v in chance.items()))

    runs = [(name, False) for name in ("text only", "LLaVA MLP", "resampler", "Flamingo")]
    if not args.no_lora:
        runs += [(name, True) for name in ("LLaVA MLP", "Flamingo")]
    results = {"steps": cfg["steps"], "lora_steps": cfg["lora_steps"], "chance": chance,
               "models": {}, "lm_parameters": lm.num_parameters(),
               "encoder_parameters": encoder.num_parameters(),
               "encoder_cell_accuracy_held_out": encoder_info["cell_accuracy_held_out"]}
    gates = {"step": [], "xattn": [], "ff": []}
    for index, (name, with_lora) in enumerate(runs):
        _progress.epoch(index + 1, len(runs), "model")
        model_lm = copy.deepcopy(lm) if with_lora else lm
        model = build(name, model_lm, vision_dim)
        if with_lora:
            lora.apply(model_lm, target=LORA_TARGETS, r=4, alpha=8, seed=2)
        steps = cfg["lora_steps"] if with_lora else cfg["steps"]
        record = None
        if name == "Flamingo" and not with_lora:
            def record(step, model=model):
                gates["step"].append(step)
                gates["xattn"].append([g[0] for g in model.gates()])
                gates["ff"].append([g[1] for g in model.gates()])
        losses, seconds = qa.train(model, features["train"], inputs, targets, steps,
                                   lr=LEARNING_RATES[name], every=max(1, steps // 10),
                                   record=record)
        held = qa.accuracy_by_type(qa.write_answers(model, features["held_out"], vocab,
                                                    data["held_out"]["question"]),
                                   data["held_out"])
        seen = qa.accuracy_by_type(qa.write_answers(model, features["seen"], vocab,
                                                    data["seen"]["question"]), data["seen"])
        label = name + (" + LoRA" if with_lora else "")
        results["models"][label] = {
            "held_out": held, "seen": seen["all"], "final_loss": float(np.mean(losses[-20:])),
            "trainable_parameters": sum(p.size for p in trainable_parameters(model)),
            "image_tokens": model.image_tokens(num_features), "seconds": seconds,
            "ms_per_step": 1e3 * seconds / steps}
        r = results["models"][label]
        print(f"{label:<18} held-out pairs: " + ", ".join(
            f"{k} {held[k]:.0%}" for k in vqa.QUESTION_TYPES) + f", all {held['all']:.1%}; "
              f"seen pairs {seen['all']:.1%}; {r['trainable_parameters']:,} trained, "
              f"{r['image_tokens']} image tokens, {seconds:.0f} s ({r['ms_per_step']:.0f} "
              f"ms/step), final loss {r['final_loss']:.3f}")
    print("Flamingo tanh(alpha) over training, (xattn, ff) per block: " + "; ".join(
        f"step {s}: " + " ".join(f"({x:+.2f},{f:+.2f})" for x, f in zip(xs, fs))
        for s, xs, fs in zip(gates["step"], gates["xattn"], gates["ff"])))
    results["flamingo_gates"] = gates
    results["flamingo_features_attended"] = int(num_features)

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, (ax, gx) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]})
        labels = list(results["models"])
        kinds = list(vqa.QUESTION_TYPES)
        width = 0.8 / len(labels)
        for i, label in enumerate(labels):
            ax.bar(np.arange(len(kinds)) + i * width, [results["models"][label]["held_out"][k]
                                                       for k in kinds], width, label=label)
        ax.scatter(np.arange(len(kinds)) + 0.4 - width / 2, [chance[k] for k in kinds],
                   marker="_", s=400, color="k", label="most frequent answer", zorder=3)
        ax.set_xticks(np.arange(len(kinds)) + 0.4 - width / 2, kinds)
        ax.set_ylabel("exact-match accuracy, held-out pairs")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, ncol=2)
        xattn = np.array(gates["xattn"])
        for block in range(xattn.shape[1]):
            gx.plot(gates["step"], xattn[:, block], label=f"xattn gate, before layer {block}")
            gx.plot(gates["step"], np.array(gates["ff"])[:, block], ls="--",
                    label=f"ff gate, before layer {block}")
        gx.set_xlabel("training step")
        gx.set_ylabel("tanh(alpha)")
        gx.legend(fontsize=7)
        print("figure:", _plotting.save(fig, "connectors_vqa"))

    keys = {"text only": "text_only", "LLaVA MLP": "llava", "resampler": "resampler",
            "Flamingo": "flamingo", "LLaVA MLP + LoRA": "llava_lora",
            "Flamingo + LoRA": "flamingo_lora"}
    for label, r in results["models"].items():  # flat numbers for the README row
        results[f"{keys[label]}_held_out"] = r["held_out"]["all"]
        results[f"{keys[label]}_seen"] = r["seen"]
        results[f"{keys[label]}_trainable"] = r["trainable_parameters"]
        results[f"{keys[label]}_image_tokens"] = r["image_tokens"]
        results[f"{keys[label]}_seconds"] = r["seconds"]
    results["flamingo_final_xattn_gates"] = gates["xattn"][-1]
    return results


if __name__ == "__main__":
    main()
