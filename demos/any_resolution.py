"""Any-resolution input: small objects on a large canvas, read as one downscaled view or as
tiles plus a global view.

The frozen vision encoder (demos/_vision_encoder.py) takes 24 x 24 images. The canvases here
are 48 x 48 (data/vqa.py with grid=2: 4 x 4 cells, up to 4 objects, each as small as in the
encoder's own images, about 6 pixels across). Questions: "what shape is the red one?" (needs
the detail a downscale destroys: an object 3 pixels across) and "what colour is the square?".

Three ways to show the canvas to the same frozen KJV char GPT, through Flamingo's gated
cross-attention (models/connectors.py; the LM gets no extra positions, so only what the
connector reads changes):

    single view      the canvas downscaled to 24 x 24 (2 x 2 pixel averages): 1 view, 17
                     features
    tiles + global   the 4 tiles of 24 x 24 at full resolution plus the downscaled view
                     (LLaVA-NeXT's any-resolution): 5 views, 85 features, each view with a
                     learned view embedding
    + resampler      the same 85 features read by a Perceiver resampler into 8 tokens first
                     (Flamingo's own design): the blocks attend to 8, whatever the resolution

Measured: exact-match accuracy per question type (seen colour + shape pairs: the question is
detail, not composition), training time, and the table of image tokens against the image's
side for an MLP projector (one LM token per feature), the resampler and Flamingo.

    python -m demos.any_resolution           full run (a few minutes; the LM and the encoder
                                             are cached in demos/output)
    python -m demos.any_resolution --quick   seconds
"""

import argparse

import numpy as np

from demos import _plotting, _progress, _vision_encoder
from demos import _vqa_lm as qa
from demos._pretrained_lm import pretrained_char_gpt
from tinygrad_course.data import vqa
from tinygrad_course.models import connectors as C
from tinygrad_course.models.connectors import trainable_parameters
from tinygrad_course.nn.module import Module

QUICK = dict(train=600, test=120, steps=50)
FULL = dict(train=3000, test=250, steps=600)
GRID, MAX_OBJECTS, QUERIES = 2, 4, 8
TYPES = ("shape", "colour")
SIDES = (24, 48, 72, 96, 192)


class ViewsThenConnector(Module):
    """A learned embedding per view, then the connected LM: forward(ids, features (N, V, S,
    d), insert_at) = lm_model(ids, ViewEmbedding(features) (N, V S, d), insert_at)."""

    def __init__(self, views, model):
        super().__init__()
        self.views, self.model = views, model

    def forward(self, ids, features, insert_at=None):
        return self.model(ids, self.views(features), insert_at=insert_at)


def view_features(encoder, images, tiled):
    """(N, V, 17, d): the encoder's features of each view (tiles + global, or the downscale)."""
    views = (C.any_resolution_views(images, vqa.TILE_SIZE) if tiled else
             C.downscale(images, vqa.TILE_SIZE)[:, None])
    N, V = views.shape[:2]
    flat = _vision_encoder.features(encoder, views.reshape(N * V, *views.shape[2:]))
    return flat.reshape(N, V, *flat.shape[1:])


def token_table(num_features, vision_dim, lm_dim):
    """Image tokens per image against the side of the image, for each connector (measured on
    the modules, not computed by hand)."""
    projector = C.MLPProjector(vision_dim, lm_dim, seed=0)
    resampler = C.PerceiverResampler(vision_dim, lm_dim, num_queries=QUERIES, nhead=4, seed=0)
    rows = []
    for side in SIDES:
        views = C.num_views(side, side, vqa.TILE_SIZE)
        features = np.zeros((1, views * num_features, vision_dim), dtype=np.float32)
        rows.append({"side": side, "views": views,
                     "mlp_projector": projector(features).shape[1],
                     "resampler": resampler(features).shape[1],
                     "flamingo_keys": views * num_features})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL

    lm, vocab, _ = pretrained_char_gpt(quick=args.quick)
    encoder, _ = _vision_encoder.load_encoder(args.quick)
    data = {split: vqa.make_vqa(cfg[split], "train" if split == "train" else "seen", grid=GRID,
                                max_objects=MAX_OBJECTS, types=TYPES, seed=10 + i)
            for i, split in enumerate(("train", "test"))}
    side = data["train"]["images"].shape[-1]
    inputs, targets = qa.encode_qa(vocab, data["train"]["question"], data["train"]["answer"])
    chance = qa.chance_by_type(data["test"])
    print(f"{cfg['train']} training canvases of {side} x {side}, {cfg['test']} test; always "
          f"the most frequent answer: " + ", ".join(f"{k} {v:.0%}" for k, v in chance.items()))

    table = token_table(17, encoder.d_model, lm.d_model)
    print("image tokens per image, by side (encoder input 24 x 24):")
    print("  side  views  MLP projector (LM positions)  resampler  Flamingo keys")
    for row in table:
        print(f"  {row['side']:4d}  {row['views']:5d}  {row['mlp_projector']:28d}  "
              f"{row['resampler']:9d}  {row['flamingo_keys']:13d}")

    runs = {"single view": (False, None), "tiles + global": (True, None),
            "tiles + global, resampled": (True, QUERIES)}
    results = {"steps": cfg["steps"], "side": side, "chance": chance, "token_table": table,
               "runs": {}}
    features = {}
    for index, (name, (tiled, queries)) in enumerate(runs.items()):
        _progress.epoch(index + 1, len(runs), "model")
        if tiled not in features:
            features[tiled] = {split: view_features(encoder, d["images"], tiled)
                               for split, d in data.items()}
        train_features, test_features = features[tiled]["train"], features[tiled]["test"]
        num_views, num_features, vision_dim = train_features.shape[1:]
        resampler = (None if queries is None else
                     C.PerceiverResampler(vision_dim, vision_dim, num_queries=queries,
                                          num_layers=2, nhead=4, seed=3))
        model = ViewsThenConnector(C.ViewEmbedding(num_views, vision_dim, seed=2),
                                   C.FlamingoLM(lm, vision_dim, nhead=4, resampler=resampler,
                                                seed=1))
        losses, seconds = qa.train(model, train_features, inputs, targets, cfg["steps"],
                                   lr=3e-3)
        accuracy = qa.accuracy_by_type(qa.write_answers(model, test_features, vocab,
                                                        data["test"]["question"]),
                                       data["test"])
        keys = queries or num_views * num_features
        results["runs"][name] = {"accuracy": accuracy, "views": int(num_views),
                                 "keys": int(keys), "seconds": seconds,
                                 "trainable_parameters": sum(
                                     p.size for p in trainable_parameters(model)),
                                 "final_loss": float(np.mean(losses[-20:]))}
        print(f"{name:<26} " + ", ".join(f"{k} {accuracy[k]:.0%}" for k in TYPES)
              + f", all {accuracy['all']:.1%}; {num_views} views, {keys} image tokens "
              f"attended, {seconds:.0f} s ({1e3 * seconds / cfg['steps']:.0f} ms/step), "
              f"final loss {results['runs'][name]['final_loss']:.3f}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, (ax, tx) = plt.subplots(1, 2, figsize=(11, 4))
        width = 0.8 / len(runs)
        for i, name in enumerate(runs):
            ax.bar(np.arange(len(TYPES)) + i * width,
                   [results["runs"][name]["accuracy"][k] for k in TYPES], width,
                   label=f"{name} ({results['runs'][name]['keys']} tokens)")
        ax.scatter(np.arange(len(TYPES)) + 0.4 - width / 2, [chance[k] for k in TYPES],
                   marker="_", s=400, color="k", label="most frequent answer", zorder=3)
        ax.set_xticks(np.arange(len(TYPES)) + 0.4 - width / 2, TYPES)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"exact-match accuracy, {side} x {side} canvases")
        ax.legend(fontsize=7)
        sides = [row["side"] for row in table]
        tx.plot(sides, [row["mlp_projector"] for row in table], "o-",
                label="MLP projector: LM positions")
        tx.plot(sides, [row["resampler"] for row in table], "s-", label="resampler")
        tx.set_xlabel("image side (pixels; encoder input 24)")
        tx.set_ylabel("image tokens per image")
        tx.set_yscale("log")
        tx.legend(fontsize=7)
        print("figure:", _plotting.save(fig, "any_resolution"))

    for key, name in (("single", "single view"), ("tiled", "tiles + global"),
                      ("resampled", "tiles + global, resampled")):
        run = results["runs"][name]
        results.update({f"{key}_shape": run["accuracy"]["shape"],
                        f"{key}_colour": run["accuracy"]["colour"],
                        f"{key}_tokens": run["keys"], f"{key}_seconds": run["seconds"]})
    results["projector_tokens"] = [row["mlp_projector"] for row in table]
    results["sides"] = [row["side"] for row in table]
    return results


if __name__ == "__main__":
    main()
