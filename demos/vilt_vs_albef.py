"""ViLT (one stream over words and patches) vs ALBEF (two encoders + fusion) at equal width
and depth: swap-test accuracy and what a training step costs.

Both are 48 wide with 4 heads, and every caption passes through two layers that see the image:
ViLT has 2 single-stream layers over [words; patches]; ALBEF has a 1-layer image encoder, a
1-layer text encoder and 2 cross-attention fusion layers. Both are trained for the same
number of steps on the same batches of the relational scenes (data/scenes.py): ViLT with
ITM (random negatives, as in the paper: it has no similarity to draw hard ones from) + MLM,
ALBEF with ITC + ITM (hard negatives) + MLM.

Measured: swap-test accuracy of each ITM head with a 95% Wilson interval (chance 50%),
milliseconds per training step, and the number of parameters. ViLT runs every (image,
caption) pair through the whole stack over T + 1 + P = 48 tokens; ALBEF encodes each image
once and lets only the 11 text tokens attend to it.

    python -m demos.vilt_vs_albef            full run (a few minutes)
    python -m demos.vilt_vs_albef --quick    seconds
"""

import argparse

from demos import _vision_language as vl
from tinygrad_course.models.vilt import ViLT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model")
    args = parser.parse_args(argv)
    steps = args.steps or (20 if args.quick else 600)
    data = vl.make_data(args.quick)
    tokenizer, n = data["tokenizer"], len(data["ids"])
    models = {"ViLT": ViLT(len(tokenizer), vl.MAX_WORDS + 1, vl.IMAGE_SIZE, vl.PATCH_SIZE,
                           width=48, heads=4, layers=2, seed=0),
              "ALBEF": vl.build_albef(tokenizer, fusion_layers=2)}
    results = {"steps": steps}
    print(f"{steps} training steps each, batch 32; swap test on {len(data['seen']['captions'])}"
          f" seen-pair images (chance 50%) [95% Wilson]")
    for name, model in models.items():
        _, seconds = vl.train(model, vl.fusion_loss_of(data), n, steps)
        parameters = sum(p.size for p in model.parameters())
        key = name.lower()
        results[f"{key}_ms_per_step"] = 1e3 * seconds
        results[f"{key}_parameters"] = parameters
        results[f"{key}_swap"] = vl.swap_test(model.match_score, data["seen"], tokenizer)
        print(vl.format_swap(f"{name} ITM", results[f"{key}_swap"]))
        print(f"  {'':<24} {1e3 * seconds:.0f} ms per training step, {parameters} parameters")
    results["step_cost_ratio"] = results["vilt_ms_per_step"] / results["albef_ms_per_step"]
    print(f"a ViLT step costs {results['step_cost_ratio']:.2f}x an ALBEF step")
    results["verdict"] = vl.compare_swap("ViLT ITM", results["vilt_swap"], "ALBEF ITM",
                                         results["albef_swap"])
    print(results["verdict"])
    return results


if __name__ == "__main__":
    main()
