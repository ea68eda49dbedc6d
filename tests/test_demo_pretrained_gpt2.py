"""demos/pretrained_gpt2.py: without weights it says what to download and exits cleanly;
--quick runs the whole path (files -> GPT.from_hf and ByteLevelBPE -> next-token table,
generation, timing) on a small random GPT-2, equal to transformers' when it is installed."""

import importlib.util

from demos import pretrained_gpt2


def test_without_weights_it_names_the_files_and_returns(tmp_path, capsys):
    result = pretrained_gpt2.main(["--weights", str(tmp_path)])
    out = capsys.readouterr().out
    assert result == {"status": "missing", "missing": list(pretrained_gpt2.FILES)}
    for name in pretrained_gpt2.FILES:
        assert name in out
    assert pretrained_gpt2.SOURCE in out
    # with no directory named at all (the tour's full run), it then runs what needs none
    offline = pretrained_gpt2.main([])
    assert offline["status"] == "missing"
    assert len(offline["top5"]) == 5  # --quick's small random GPT-2
    assert offline["gpt2_124m_architecture"]["parameters"] == 124_439_808  # GPT-2 small, tied
    assert offline["gpt2_124m_architecture"]["tokens_per_second"] > 0


def test_quick_runs_the_whole_path():
    result = pretrained_gpt2.main(["--quick"])
    assert len(result["top5"]) == 5 and len(set(result["top5"])) == 5
    assert all(a >= b for a, b in zip(result["top5_p"], result["top5_p"][1:]))
    assert result["greedy"].startswith(pretrained_gpt2.PROMPT)
    assert result["sampled"].startswith(pretrained_gpt2.PROMPT)
    assert result["tokens_per_second"] > 0
    if importlib.util.find_spec("transformers") and importlib.util.find_spec("torch"):
        assert result["layout"] == "hf"
        assert result["matches_transformers"], result["max_prob_gap"]
    else:
        assert result["layout"] == "npz"
