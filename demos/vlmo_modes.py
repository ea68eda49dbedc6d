"""One VLMo model used two ways: a dual encoder for retrieval and a fusion encoder for matching.

VLMo (models/vlmo.py): 2 mixture-of-modality-experts layers, 48 wide; the bottom layer has
a vision and a language FFN, the top one also a vision-language FFN. Trained on the
relational scenes (data/scenes.py) with ITC + ITM (hard negatives) + MLM. Compared with a
separately trained CLIP (the dual-encoder baseline) and ALBEF (the fusion baseline), each
trained for the same number of steps on the same batches.

Measured:
  - retrieval recall@1/5 among 200 test images and captions by dot product of the dual
    encoder's embeddings (VLMo: image-only and text-only modes; CLIP; ALBEF's ITC);
  - swap-test accuracy with a 95% Wilson interval (chance 50%) of the fusion mode's ITM head
    (VLMo fusion mode; ALBEF ITM) and of CLIP's cosine.

    python -m demos.vlmo_modes            full run (a few minutes)
    python -m demos.vlmo_modes --quick    seconds
"""

import argparse

from demos import _vision_language as vl
from tinygrad_course.models.vlmo import VLMo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model")
    args = parser.parse_args(argv)
    steps = args.steps or (20 if args.quick else 600)
    data = vl.make_data(args.quick)
    tokenizer, n = data["tokenizer"], len(data["ids"])
    vlmo = VLMo(len(tokenizer), vl.MAX_WORDS + 1, vl.IMAGE_SIZE, vl.PATCH_SIZE, width=48,
                heads=4, layers=2, fusion_layers=1, embed_dim=32, seed=0)
    clip, albef = vl.build_clip(tokenizer), vl.build_albef(tokenizer)
    seconds = {"vlmo": vl.train(vlmo, vl.fusion_loss_of(data), n, steps)[1],
               "clip": vl.train(clip, vl.clip_loss_of(data), n, steps)[1],
               "albef": vl.train(albef, vl.fusion_loss_of(data), n, steps)[1]}
    print(f"{steps} training steps each, batch 32: " + ", ".join(
        f"{name} {1e3 * s:.0f} ms/step" for name, s in seconds.items()))
    results = {"steps": steps}
    print(f"retrieval by dot product among {min(200, len(data['seen']['captions']))} test "
          "images/captions:")
    for key, name, embed in (("vlmo", "VLMo dual encoder", lambda x, t: vlmo.embed(x, t)),
                             ("clip", "CLIP", vl.clip_embed(clip)),
                             ("albef", "ALBEF ITC", lambda x, t: albef.embed(x, t))):
        results[f"retrieval_{key}"] = vl.retrieval(embed, data["seen"], tokenizer)
        print(vl.format_retrieval(name, results[f"retrieval_{key}"]))
    print(f"swap test on {len(data['seen']['captions'])} seen-pair images [95% Wilson]:")
    for key, name, score in (("vlmo", "VLMo fusion (ITM)", vlmo.match_score),
                             ("albef", "ALBEF ITM", albef.match_score),
                             ("clip", "CLIP (cosine)", vl.clip_pair_score(clip))):
        results[f"swap_{key}"] = vl.swap_test(score, data["seen"], tokenizer)
        print(vl.format_swap(name, results[f"swap_{key}"]))
    results["verdict"] = vl.compare_swap("VLMo fusion", results["swap_vlmo"], "CLIP",
                                         results["swap_clip"])
    print(results["verdict"])
    return results


if __name__ == "__main__":
    main()
