"""The image-grounded text decoder (models/caption_decoder.py): gated to zero it is a plain
causal LM, it is causal, its loss is the next-token cross-entropy, and generate() decodes."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import optim
from tinygrad_course.data import scenes
from tinygrad_course.errors import TensorError
from tinygrad_course.models.caption_decoder import (
    Captioner,
    CaptionVocabulary,
    ImageGroundedDecoder,
    caption_loss,
)
from tinygrad_course.models.decoding import beam_search, greedy_decode
from tinygrad_course.nn.transformer import TransformerEncoderLayer

VOCABULARY = CaptionVocabulary(scenes.scene_vocabulary(), 10)
WIDTH = 16


def tiny_decoder(seed=0, layers=2):
    return ImageGroundedDecoder(len(VOCABULARY), VOCABULARY.max_tokens, width=WIDTH, heads=2,
                                layers=layers, seed=seed)


def caption_ids(n, seed=0):
    return VOCABULARY(scenes.make_scenes(n, seed=seed)["captions"])


def image_tokens(n, seed):
    return tg.randn(n, 5, WIDTH, seed=seed)


def test_vocabulary_wraps_captions_in_bos_and_eos_and_decodes_them_back():
    captions = ["a red circle left of a blue square", "a small green cross left of a large red "
                "circle"]
    ids = VOCABULARY(captions)
    assert ids.shape == (2, 12)
    assert (ids[:, 0] == VOCABULARY.bos_id).all()
    assert ids[0, 9] == VOCABULARY.eos_id and (ids[0, 10:] == 0).all()
    assert ids[1, 11] == VOCABULARY.eos_id
    assert VOCABULARY.decode(ids) == captions
    assert VOCABULARY.decode([[5, 6, VOCABULARY.eos_id, 7]]) == [
        " ".join(VOCABULARY.vocabulary[i] for i in (5, 6))]


def test_gated_to_zero_the_decoder_is_a_plain_causal_language_model():
    decoder = tiny_decoder()
    ids = caption_ids(3)
    decoder.set_cross_attention_gate(0.0)
    gated = decoder(ids, image_tokens(3, seed=1)).numpy()
    # another image changes nothing
    np.testing.assert_array_equal(decoder(ids, image_tokens(3, seed=2)).numpy(), gated)
    # the same weights in encoder layers run with a causal mask (a GPT block stack): self-
    # attention and feed-forward, the decoder's norm1 and norm3 as the LM's norm1 and norm2
    x = decoder.embedding(ids)
    for layer in decoder.layers:
        block = TransformerEncoderLayer(WIDTH, 2, 2 * WIDTH, dropout=0.0, activation="gelu",
                                        batch_first=True, norm_first=True)
        block.self_attn, block.linear1, block.linear2 = (layer.self_attn, layer.linear1,
                                                         layer.linear2)
        block.norm1, block.norm2 = layer.norm1, layer.norm3
        x = block(x, is_causal=True)
    plain = decoder.head(decoder.norm(x)).numpy()
    np.testing.assert_allclose(gated, plain, rtol=1e-5, atol=1e-6)
    # and open, the gate lets the image in
    decoder.set_cross_attention_gate(1.0)
    assert not np.allclose(decoder(ids, image_tokens(3, seed=1)).numpy(),
                           decoder(ids, image_tokens(3, seed=2)).numpy())


def test_the_decoder_is_causal():
    decoder = tiny_decoder(seed=1)
    ids = caption_ids(2, seed=3)
    changed = ids.copy()
    changed[:, 5] = VOCABULARY.index["red"] if changed[0, 5] != VOCABULARY.index["red"] else \
        VOCABULARY.index["blue"]
    memory = image_tokens(2, seed=4)
    before, after = decoder(ids, memory).numpy(), decoder(changed, memory).numpy()
    np.testing.assert_array_equal(before[:, :5], after[:, :5])
    assert not np.allclose(before[:, 5:], after[:, 5:])


def test_caption_loss_is_the_mean_next_token_cross_entropy_over_real_targets():
    ids = caption_ids(3, seed=5)
    logits = tg.randn(3, ids.shape[1] + 1, len(VOCABULARY), seed=6)  # one position too many
    z = logits.numpy()[:, :ids.shape[1] - 1].astype(np.float64)
    log_p = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    targets = ids[:, 1:]
    real = targets != 0
    expected = -log_p[np.nonzero(real) + (targets[real],)].mean()
    assert caption_loss(logits, ids).item() == pytest.approx(expected, rel=1e-5)


def test_caption_loss_gradcheck():
    ids = caption_ids(2, seed=7)
    logits = tg.randn(2, ids.shape[1] - 1, len(VOCABULARY), seed=8, dtype=np.float64,
                      requires_grad=True)
    assert tg.gradcheck(lambda z: caption_loss(z, ids).reshape(1), logits)


def test_generate_stops_at_eos_and_otherwise_at_max_length():
    decoder = tiny_decoder(seed=2)
    memory = image_tokens(2, seed=3)
    head = decoder.head
    head.weight.data[...] = 0
    head.bias.data[...] = 0
    head.bias.data[VOCABULARY.eos_id] = 10.0
    ended = decoder.generate(memory, VOCABULARY.bos_id, VOCABULARY.eos_id, 11)
    np.testing.assert_array_equal(ended, [[VOCABULARY.eos_id]] * 2)
    head.bias.data[VOCABULARY.eos_id] = 0.0
    head.bias.data[VOCABULARY.index["red"]] = 10.0
    for beam in (1, 3):
        never = decoder.generate(memory, VOCABULARY.bos_id, VOCABULARY.eos_id, 7,
                                 beam_size=beam)
        np.testing.assert_array_equal(never, np.full((2, 7), VOCABULARY.index["red"]))


def test_beam_search_on_the_decoder_keeps_each_image_with_its_beams():
    decoder = tiny_decoder(seed=3)
    memory = image_tokens(3, seed=9)
    prefix = np.full((3, 1), VOCABULARY.bos_id)
    tokens, scores = beam_search(decoder.next_log_probs(memory), prefix, 8, VOCABULARY.eos_id,
                                 beam_size=3)
    for b in range(3):
        alone, alone_scores = beam_search(decoder.next_log_probs(memory[b:b + 1]),
                                          prefix[:1], 8, VOCABULARY.eos_id, beam_size=3)
        width = alone.shape[1]
        np.testing.assert_array_equal(tokens[b, :width], alone[0])
        assert scores[b] == pytest.approx(alone_scores[0], rel=1e-5)
    greedy, _ = greedy_decode(decoder.next_log_probs(memory), prefix, 8, VOCABULARY.eos_id)
    np.testing.assert_array_equal(decoder.generate(memory, VOCABULARY.bos_id,
                                                   VOCABULARY.eos_id, 8), greedy)


def test_a_captioner_learns_to_caption_its_training_images():
    data = scenes.make_scenes(4, seed=11, size_rate=0.0)
    ids = VOCABULARY(data["captions"])
    model = Captioner(len(VOCABULARY), VOCABULARY.max_tokens, width=32, heads=2,
                      decoder_layers=1, seed=0)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        loss = model.loss(data["images"], ids)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model.caption(data["images"], VOCABULARY) == data["captions"]
    assert model.caption(data["images"], VOCABULARY, beam_size=3) == data["captions"]


@pytest.mark.parametrize("call", [
    lambda d: d(caption_ids(2), image_tokens(3, seed=0)),                 # batch mismatch
    lambda d: d(caption_ids(2), tg.randn(2, 5, WIDTH + 1, seed=0)),       # width mismatch
    lambda d: d.next_log_probs(image_tokens(2, seed=0))(caption_ids(3)),  # 3 rows, 2 images
    lambda d: caption_loss(tg.randn(2, 3, 5, seed=0), caption_ids(2)),    # too few positions
    lambda d: caption_loss(tg.randn(2, 11, 5, seed=0), np.zeros((2, 12), np.int64)),
])
def test_bad_input_raises_a_named_error(call):
    with pytest.raises(TensorError, match="ImageGroundedDecoder|caption_loss"):
        call(tiny_decoder())
