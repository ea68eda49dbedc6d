"""The connector demos in --quick mode: the tiny frozen LM (1 layer, 200 pretraining steps) and
60 steps of training cannot answer yet, so the tests check what the run measures (tokens,
parameter counts, the gates' start at exactly 0) and what a minute does learn (the image
lowers Flamingo's loss below the text-only baseline's). Full-size numbers: the README table.
"""

import pytest

from tinygrad_course.models.connectors import num_views


@pytest.fixture(scope="module")
def vqa_run():
    from demos import connectors_vqa
    return connectors_vqa.main(["--quick", "--no-plot"])


def test_quick_connectors_vqa_counts_tokens_and_parameters(vqa_run):
    models = vqa_run["models"]
    assert set(models) == {"text only", "LLaVA MLP", "resampler", "Flamingo",
                           "LLaVA MLP + LoRA", "Flamingo + LoRA"}
    assert vqa_run["llava_image_tokens"] == 17  # CLS + 4 x 4 patches of the ViT
    assert vqa_run["resampler_image_tokens"] == 8
    assert vqa_run["flamingo_image_tokens"] == vqa_run["text_only_image_tokens"] == 0
    assert vqa_run["text_only_trainable"] == 8 * 32  # 8 prompt vectors of d_model 32
    # LoRA r=4 on the one block's out_proj (32 -> 32), linear1 (32 -> 128), linear2 (128 -> 32)
    lora = 4 * ((32 + 32) + (32 + 128) + (128 + 32))
    assert vqa_run["llava_lora_trainable"] == vqa_run["llava_trainable"] + lora
    assert vqa_run["flamingo_lora_trainable"] == vqa_run["flamingo_trainable"] + lora
    for r in models.values():
        assert 0.0 <= r["held_out"]["all"] <= 1.0 and r["seconds"] > 0


def test_quick_flamingo_gates_start_closed_and_the_image_lowers_the_loss(vqa_run):
    gates = vqa_run["flamingo_gates"]
    assert gates["step"][0] == 0 and gates["xattn"][0] == [0.0] and gates["ff"][0] == [0.0]
    assert gates["xattn"][-1] != [0.0]  # the gate opened
    # measured: text only 3.23 nats per answer character, Flamingo 2.65
    models = vqa_run["models"]
    assert models["Flamingo"]["final_loss"] < models["text only"]["final_loss"] - 0.3


def test_quick_any_resolution_token_table_and_runs():
    from demos import any_resolution

    r = any_resolution.main(["--quick", "--no-plot"])
    assert r["side"] == 48 and set(r["runs"]) == {"single view", "tiles + global",
                                                  "tiles + global, resampled"}
    for row in r["token_table"]:
        views = num_views(row["side"], row["side"], 24)
        assert row["views"] == views and row["mlp_projector"] == row["flamingo_keys"] == 17 * views
        assert row["resampler"] == 8
    assert (r["single_tokens"], r["tiled_tokens"], r["resampled_tokens"]) == (17, 85, 8)
    for run in r["runs"].values():
        assert set(run["accuracy"]) == {"shape", "colour", "all"}
        assert run["final_loss"] < 3.0  # measured 2.49-2.52 from about 3.4 at the start
