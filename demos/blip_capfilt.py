"""BLIP's caption-and-filter, as the paper does it: a clean set fine-tunes captioner and filter.

On the relational scenes of data/scenes.py (issue 24's captions: "a small red circle left of
a large blue square"), a small clean set (10% of the training scenes, chosen at random, with
their true captions: the human-annotated COCO of the paper) and a "web" set (the other 90%,
of whose captions 40% are another image's: wrong). Three BLIPs (models/blip.py: ITC + ITM +
LM) are trained for the same number of steps from scratch and measured on held-out images:

  1. noisy:         trained on the web pairs only;
  2. noisy + clean: trained on the web and the clean pairs (the same data CapFilt gets: the
                    fair baseline). This is also the pre-trained model of the recipe;
  3. CapFilt:       two copies of model 2 are fine-tuned on the clean set, the captioner with
                    LM alone and the filter with ITC + ITM; the captioner writes a synthetic
                    caption for every web image by nucleus sampling (top_p 0.9, as the paper;
                    --top-p 0 for greedy decoding), the filter keeps the web and synthetic
                    captions with p_match >= 0.5, and a new BLIP is trained from scratch on
                    the clean pairs + the kept ones;
  4. filter only:   the same without the synthetic captions: the clean pairs + the kept web
                    pairs (what the fine-tuned filter alone buys when the captioner is weak).

It prints the filter's precision and recall at finding the wrong web captions (the demo knows
which ones are wrong: scenes.caption_matches), before and after its fine-tuning; how many
synthetic captions are true and how many were kept (and how many of those are true); the
cleaned set's wrong fraction; and for each model retrieval recall@1 (ITC, and ITC's top 8
re-ranked by ITM) and caption exact match / token accuracy on held-out images (greedy
captions; a caption is exact when it is one of the image's four true captions: either order
of the objects, with or without sizes).

Measured (full size, seed 0, nucleus 0.9; demos/RESULTS.md): fine-tuning on the clean set
lifts the filter's precision at the wrong web captions from 72% to 86% (recall 88% -> 90%),
but the fine-tuned captioner writes 1.3% true captions (4.8% name both objects) and the filter
keeps 3,426 of them (2.6% true), so the CapFilt set is 43% wrong, worse than the 35% of
noisy + clean, and CapFilt does not beat that fair baseline (i->t R@1 11.4% vs 12.2%, token
accuracy 62% vs 66%). Clean + the kept web captions alone (6% wrong) beat it: i->t R@1 13.4%,
caption exact 4.2% vs 2.3%, token accuracy 71% vs 66% (one seed; a R@1 among 500 has a
standard error of about 1.5 points). Here the filter helps and the captioner does not: it is
too weak for its captions to add anything but noise.

The ITM negatives are drawn uniformly, not by ITC similarity as in ALBEF and BLIP: on these
scenes ITC soon tells colours and shapes apart, so its hard negatives are the same two
objects in another arrangement, which this budget cannot learn (issue 24: ALBEF's ITM stays
at chance on relation swaps), and the ITM loss then stays at the constant predictor's
H(1/3) = 0.637 for the whole run, matching nothing (measured over 400 steps on clean
captions; with uniform negatives it falls to 0.39 in the same steps). A filter only has to
tell an image's caption from another image's, which uniform negatives teach. Batches are
uniform too (no grouping by the images' contents), and the pairs never drawn as negatives
are read from the captions' words alone (caption_positives).

    python -m demos.blip_capfilt            full run (a few minutes)
    python -m demos.blip_capfilt --quick    seconds
"""

import argparse
import copy
import time

import numpy as np

from demos import _plotting
from demos import _vision_language as vl
from tinygrad_course.data import scenes
from tinygrad_course.models.blip import BLIP, BLIPTokenizer, capfilt, caption_images

INVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


def build_blip(tokenizer, seed=0):
    return BLIP(len(tokenizer), vl.MAX_WORDS + 1, vl.IMAGE_SIZE, vl.PATCH_SIZE, width=48,
                heads=4, image_layers=1, text_layers=2, embed_dim=32, seed=seed)


# ----- what a caption says, read from its words -------------------------------------------------
def parse_caption(text):
    """'a [size] colour shape RELATION a [size] colour shape' -> (left object, right object,
    layout, sizes) with the objects as (colour, shape) in image order (left/top first) and
    sizes a pair or None when the caption names none; None for any other sentence."""
    words = text.split()
    objects, relation, i = [], None, 0
    for _ in range(2):
        if i >= len(words) or words[i] != "a":
            return None
        i += 1
        size = words[i] if i < len(words) and words[i] in scenes.SIZES else None
        i += size is not None
        if i + 2 > len(words) or words[i] not in scenes.COLOUR_NAMES or \
                words[i + 1] not in scenes.SHAPES:
            return None
        objects.append((words[i], words[i + 1], size))
        i += 2
        if relation is None:
            for candidate in scenes.RELATIONS:
                if words[i:i + len(candidate.split())] == candidate.split():
                    relation = candidate
                    i += len(candidate.split())
                    break
            else:
                return None
    if i != len(words) or (objects[0][2] is None) != (objects[1][2] is None):
        return None
    first, second = objects if relation in ("left of", "above") else objects[::-1]
    layout = "horizontal" if relation in ("left of", "right of") else "vertical"
    sizes = None if first[2] is None else (first[2], second[2])
    return first[:2], second[:2], layout, sizes


def caption_positives(captions):
    """(N, N) bool: caption j is implied by caption i (so image i, if caption i is true of
    it, is truly described by caption j): the same objects on the same sides, and caption j
    names no sizes or the sizes of caption i. Read from the words alone, never from the
    images; a sentence that does not parse is implied by an identical one only."""
    parsed = [parse_caption(c) for c in captions]
    keys = [p[:3] if p else c for p, c in zip(parsed, captions)]
    sizes = [p[3] if p else None for p in parsed]
    key_id = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    size_id = {s: i for i, s in enumerate(dict.fromkeys(sizes))}
    k = np.array([key_id[x] for x in keys])
    s = np.array([size_id[x] for x in sizes])
    unsized = np.array([x is None for x in sizes])
    return (k[:, None] == k[None]) & (unsized[None] | (s[:, None] == s[None]))


def true_captions(scene_dict, i):
    """The four true captions of image i: either object first, with and without sizes."""
    first, second, relation = (scene_dict[k][i] for k in ("first", "second", "relation"))
    return {scenes.scene_caption(a, b, r, with_sizes) for a, b, r in
            ((first, second, relation), (second, first, INVERSE[relation]))
            for with_sizes in (False, True)}


def names_the_objects(generated, scene_dict):
    """(N,) bool: caption i parses and names image i's two colour + shape objects (whatever
    it says of their sizes and places)."""
    named = []
    for i, text in enumerate(generated):
        parsed = parse_caption(text)
        truth = {scene_dict["first"][i][:2], scene_dict["second"][i][:2]}
        named.append(parsed is not None and {parsed[0], parsed[1]} == truth)
    return np.array(named)


def caption_scores(generated, scene_dict):
    """Exact match (the caption is one of the image's true captions) and token accuracy
    (the share of word positions where it agrees with its closest true caption, over the
    longer of the two) of captions generated for the scenes, each (N,)."""
    exact, accuracy = [], []
    for i, text in enumerate(generated):
        references = true_captions(scene_dict, i)
        exact.append(text in references)
        words = text.split()
        accuracy.append(max(sum(a == b for a, b in zip(words, ref.split()))
                            / max(len(words), len(ref.split())) for ref in references))
    return np.array(exact), np.array(accuracy)


# ----- the experiment --------------------------------------------------------------------------
OBJECTIVES = ("itc", "itm", "lm")


def truly_wrong(train, source, chunk=250):
    """(N,) bool: the caption of scene source[i] is false of image i."""
    wrong = []
    for start in range(0, len(source), chunk):
        index = np.arange(start, min(start + chunk, len(source)))
        matches = scenes.caption_matches(vl.subset(train, index), vl.subset(train, source[index]))
        wrong.append(~np.diag(matches))
    return np.concatenate(wrong)


def split_clean(n, clean_fraction, seed):
    """(clean, web): disjoint sorted indices of the n training images, round(clean_fraction
    n) of them (at random, at least one batch of 32 when n allows) clean."""
    if not 0.0 < clean_fraction < 1.0:
        raise ValueError(f"blip_capfilt: clean_fraction must be in (0, 1), got {clean_fraction}")
    order = np.random.default_rng(seed + 200).permutation(n)
    size = min(max(round(clean_fraction * n), 32), n - 32)
    return np.sort(order[:size]), np.sort(order[size:])


def train_blip(model, train, image_index, words, tokenizer, steps, lr, seed=0,
               objectives=OBJECTIVES):
    """``model`` trained in place on the pairs (train image image_index[m], words[m]) for
    ``steps`` AdamW steps of 32 pairs drawn uniformly, with uniform ITM negatives (see the
    module docstring), on the sum of the named objectives (a sub-tuple of OBJECTIVES: the
    captioner is fine-tuned on ("lm",), the filter on ("itc", "itm")). Returns (model,
    seconds per step)."""
    if len(words) < 32:
        raise ValueError(f"blip_capfilt: {len(words)} training pairs, fewer than one batch "
                         f"of 32")
    if not objectives or set(objectives) - set(OBJECTIVES):
        raise ValueError(f"blip_capfilt: objectives must be some of {OBJECTIVES}, got "
                         f"{objectives!r}")
    captions = [tokenizer.caption(row) for row in words]
    images = train["images"]

    def loss_of(m, batch, rng):
        terms = m.losses(images[image_index[batch]], words[batch], tokenizer, rng,
                         positives=caption_positives([captions[b] for b in batch]),
                         negatives="random")
        return sum((terms[name] for name in objectives[1:]), terms[objectives[0]])

    _, seconds = vl.train(model, loss_of, len(words), steps, lr=lr, seed=seed)
    return model, seconds


def fine_tuned(model, train, clean, clean_words, tokenizer, steps, lr, seed, objectives):
    """A copy of ``model`` fine-tuned on the clean pairs on ``objectives`` (the original is
    left as it is)."""
    return train_blip(copy.deepcopy(model), train, clean, clean_words, tokenizer, steps, lr,
                      seed, objectives)[0]


def evaluate(model, test, tokenizer, n_retrieval):
    """Retrieval recall@1 (ITC, and ITC's top 8 re-ranked by ITM) and greedy-caption exact
    match / token accuracy on the held-out test scenes."""
    result = vl.retrieval(lambda x, w: model.embed(x, w, tokenizer), test, tokenizer,
                          n=n_retrieval, top=8,
                          rerank=lambda x, w: model.match_probability(x, w, tokenizer))
    generated = [tokenizer.caption(row) for row in
                 caption_images(model, test["images"], tokenizer)]
    exact, accuracy = caption_scores(generated, test)
    return {"i2t_r1": result["i2t"][1], "t2i_r1": result["t2i"][1],
            "i2t_r1_rerank": result["i2t_rerank"][1], "exact_match": float(exact.mean()),
            "token_accuracy": float(accuracy.mean()), "samples": generated[:3]}


def filter_quality(wrong, keep):
    """Precision and recall of "removed" as a detector of the wrong captions."""
    removed = ~keep
    return {"precision": float((removed & wrong).sum() / max(removed.sum(), 1)),
            "recall": float((removed & wrong).sum() / max(wrong.sum(), 1))}


MODELS = (("noisy", "noisy"), ("noisy_clean", "noisy + clean"), ("capfilt", "CapFilt"),
          ("filter_only", "filter only"))


def plot(results, p_web, wrong, threshold):
    """Left: the fine-tuned filter's p_match of the right and the wrong web captions. Right:
    the four models' held-out measures side by side."""
    plt = _plotting.pyplot()
    if plt is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.linspace(0, 1, 26)
    left.hist(p_web[~wrong], bins, alpha=0.6, label="true web captions")
    left.hist(p_web[wrong], bins, alpha=0.6, label="wrong web captions")
    left.axvline(threshold, color="black", linestyle=":", label="threshold")
    left.set(xlabel="fine-tuned filter's p(match)", ylabel="captions", yscale="log",
             title="what the ITM filter sees")
    left.legend()
    keys = ("i2t_r1", "t2i_r1", "i2t_r1_rerank", "exact_match", "token_accuracy")
    labels = ("image->text\nR@1", "text->image\nR@1", "image->text\nR@1 + ITM", "caption\nexact",
              "caption\ntoken acc.")
    x = np.arange(len(keys))
    for offset, (name, label) in zip((-0.3, -0.1, 0.1, 0.3), MODELS):
        right.bar(x + offset, [results[name][k] for k in keys], 0.2, label=label)
    right.set(xticks=x, ylim=(0, 1), title="held-out images")
    right.set_xticklabels(labels, fontsize=8)
    right.legend()
    return _plotting.save(fig, "blip_capfilt")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model")
    parser.add_argument("--finetune-steps", type=int, default=None,
                        help="fine-tuning steps of the captioner and of the filter")
    parser.add_argument("--noise-rate", type=float, default=0.4,
                        help="fraction of training captions replaced by another image's")
    parser.add_argument("--clean-fraction", type=float, default=0.1,
                        help="fraction of the training scenes given their true caption")
    parser.add_argument("--threshold", type=float, default=0.5, help="the filter's p_match cut")
    parser.add_argument("--top-p", type=float, default=0.9,
                        help="the captioner's nucleus; 0: greedy decoding")
    parser.add_argument("--lr", type=float, default=3e-4, help="AdamW's peak learning rate")
    parser.add_argument("--finetune-lr", type=float, default=1e-4,
                        help="AdamW's peak learning rate when fine-tuning")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = args.steps or (40 if args.quick else 700)
    finetune_steps = args.finetune_steps or (20 if args.quick else 200)
    start = time.perf_counter()
    data = vl.make_data(args.quick, noise_rate=args.noise_rate, seed=args.seed)
    train, source = data["train"], data["source"]
    test = data["seen"] if not args.quick else vl.subset(data["seen"], np.arange(60))
    tokenizer = BLIPTokenizer(scenes.scene_vocabulary(), vl.MAX_WORDS)
    clean, web = split_clean(len(source), args.clean_fraction, args.seed)
    clean_words = tokenizer([train["captions"][i] for i in clean])
    web_words = tokenizer([train["captions"][j] for j in source[web]])
    wrong = truly_wrong(train, source)[web]  # of the web captions
    results = {"steps": steps, "finetune_steps": finetune_steps,
               "train_images": len(source), "clean_pairs": len(clean), "web_pairs": len(web),
               "noise_rate": args.noise_rate, "wrong_fraction": float(wrong.mean()),
               "threshold": args.threshold, "top_p": args.top_p}
    print(f"{len(source)} training images: {len(clean)} clean (their true captions), "
          f"{len(web)} web captions of which {wrong.mean():.1%} are false of their image "
          f"(noise rate {args.noise_rate:.0%})")

    def fresh_blip():
        return build_blip(tokenizer, seed=args.seed)

    both = np.concatenate([web, clean])
    models = {"noisy": train_blip(fresh_blip(), train, web, web_words, tokenizer, steps,
                                  args.lr, args.seed)[0]}
    models["noisy_clean"], seconds = train_blip(
        fresh_blip(), train, both, np.concatenate([web_words, clean_words]), tokenizer, steps,
        args.lr, args.seed)
    captioner = fine_tuned(models["noisy_clean"], train, clean, clean_words, tokenizer,
                           finetune_steps, args.finetune_lr, args.seed, ("lm",))
    filter_model = fine_tuned(models["noisy_clean"], train, clean, clean_words, tokenizer,
                              finetune_steps, args.finetune_lr, args.seed, ("itc", "itm"))
    web_images = train["images"][web]
    p_before = np.concatenate([
        models["noisy_clean"].match_probability(web_images[i:i + 500], web_words[i:i + 500],
                                                tokenizer) for i in range(0, len(web), 500)])
    cleaned = capfilt(captioner, filter_model, web_images, web_words, tokenizer,
                      args.threshold, top_p=args.top_p or None, rng=args.seed)
    web_train = vl.subset(train, web)
    synthetic_text = [tokenizer.caption(row) for row in cleaned["synthetic"]]
    synthetic_exact, _ = caption_scores(synthetic_text, web_train)
    keep_web, keep_synthetic = cleaned["keep_web"], cleaned["keep_synthetic"]
    kept_wrong = (wrong & keep_web).sum() + (~synthetic_exact & keep_synthetic).sum()
    cleaned_pairs = len(clean) + len(cleaned["words"])
    results["filter_web_before"] = filter_quality(wrong, p_before >= args.threshold)
    results["filter_web"] = filter_quality(wrong, keep_web)
    results["filter_synthetic"] = filter_quality(~synthetic_exact, keep_synthetic)
    results.update({
        "web_kept": int(keep_web.sum()), "synthetic_kept": int(keep_synthetic.sum()),
        "synthetic_true": float(synthetic_exact.mean()),
        "synthetic_objects_right": float(names_the_objects(synthetic_text, web_train).mean()),
        "synthetic_distinct": len(set(synthetic_text)),
        "synthetic_kept_true": (float(synthetic_exact[keep_synthetic].mean())
                                if keep_synthetic.any() else 0.0),
        "cleaned_pairs": cleaned_pairs,
        "cleaned_wrong_fraction": float(kept_wrong / cleaned_pairs),
        "noisy_clean_wrong_fraction": float(wrong.sum() / len(both)),
        "filter_only_pairs": len(clean) + int(keep_web.sum()),
        "filter_only_wrong_fraction": float((wrong & keep_web).sum()
                                            / (len(clean) + keep_web.sum()))})
    decoding = f"nucleus top_p {args.top_p}" if args.top_p else "greedy"
    print(f"CapFilt (captioner: LM, filter: ITC + ITM, each fine-tuned {finetune_steps} steps "
          f"on the clean set from the noisy + clean model; {decoding}; p_match >= "
          f"{args.threshold}):")
    for key, label in (("filter_web_before", "before fine-tuning"),
                       ("filter_web", "after fine-tuning")):
        print(f"  filter {label:<19}: finds the wrong web captions with precision "
              f"{results[key]['precision']:.1%}, recall {results[key]['recall']:.1%}")
    print(f"  web captions kept {keep_web.sum()} of {len(web)}")
    print(f"  synthetic captions: {synthetic_exact.mean():.1%} true (the two objects right: "
          f"{results['synthetic_objects_right']:.1%}; {results['synthetic_distinct']} distinct); "
          f"kept {keep_synthetic.sum()} of {len(web)}, {results['synthetic_kept_true']:.1%} of "
          f"them true")
    print(f"  cleaned set: {len(clean)} clean + {len(cleaned['words'])} kept = {cleaned_pairs} "
          f"pairs, {results['cleaned_wrong_fraction']:.1%} wrong (noisy + clean: "
          f"{results['noisy_clean_wrong_fraction']:.1%}); without the synthetic captions: "
          f"{results['filter_only_pairs']} pairs, {results['filter_only_wrong_fraction']:.1%} "
          f"wrong")
    models["capfilt"] = train_blip(
        fresh_blip(), train, np.concatenate([clean, web[cleaned["image_index"]]]),
        np.concatenate([clean_words, cleaned["words"]]), tokenizer, steps, args.lr,
        args.seed)[0]
    models["filter_only"] = train_blip(
        fresh_blip(), train, np.concatenate([clean, web[keep_web]]),
        np.concatenate([clean_words, web_words[keep_web]]), tokenizer, steps, args.lr,
        args.seed)[0]

    n_retrieval = min(500, len(test["captions"]))
    print(f"held-out images ({steps} steps each; retrieval among {n_retrieval}, captions of "
          f"{len(test['captions'])}):")
    print(f"  {'':<14} {'i->t R@1':>9} {'t->i R@1':>9} {'+ITM i->t':>10} {'exact':>7} "
          f"{'tokens':>7}")
    for name, label in MODELS:
        results[name] = r = evaluate(models[name], test, tokenizer, n_retrieval)
        print(f"  {label:<14} {r['i2t_r1']:9.1%} {r['t2i_r1']:9.1%} {r['i2t_r1_rerank']:10.1%} "
              f"{r['exact_match']:7.1%} {r['token_accuracy']:7.1%}   e.g. {r['samples'][0]!r}")
    results["seconds_per_step"] = seconds
    results["seconds"] = time.perf_counter() - start
    plot(results, cleaned["p_web"], wrong, args.threshold)
    return results


if __name__ == "__main__":
    main()
