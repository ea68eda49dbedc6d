"""Decoding: turning a model of the next token into a whole sequence.

A left-to-right language model (GPT, an image-grounded caption decoder) gives the
distribution of the next token given the tokens so far. Decoding searches for a likely
sequence y = y_1 ... y_T under

    log p(y | prefix) = sum_t log p(y_t | prefix, y_1 ... y_{t-1})

Every function here sees the model only through one host function,

    next_log_probs(ids) -> (rows, vocab) log-probabilities of the next token (each <= 0;
                           -inf for a token that cannot come next)

where ids (rows, t) int64 is the prefix followed by the tokens chosen so far (a Tensor is
accepted as the result too; it is read back to the host). Greedy decoding calls it with
rows = batch; beam search with rows = batch * beam_size, ordered input by input: row
b * beam_size + k is beam k of input b (so a caption decoder repeats each image's features
beam_size times, e.g. numpy.repeat(memory, beam_size, axis=0)).

Lengths and the end token. ``max_length`` is the number of tokens generated after the
prefix, the end token included. A sequence ends at its first ``eos_id``; after it the output
holds ``pad_id`` (and the model's next-token log-probabilities for that row are ignored). A
sequence that has not produced eos_id after max_length tokens is returned as it is,
truncated. Greedy decoding stops early once every sequence has ended, beam search once no
live beam can overtake an ended one (see _search_is_over). The result holds the
generated tokens only (not the prefix), (batch, T) with T <= max_length the longest one.

greedy_decode   y_t = argmax_v log p(v | prefix, y_<t): one sequence, cheap, myopic (a token
                that looks best now can lead to a poor sequence).
beam_search     keeps the beam_size best partial sequences by their summed log-probability;
                at each step every beam is extended by every token and the best beam_size of
                the beam_size * vocab candidates survive. An ended beam stays in the beam with
                its score (its only extension is pad, adding 0). With beam_size 1 it is greedy
                decoding; with beam_size >= the number of possible prefixes it is exact search.
                A length penalty alpha ranks the final beams by score / length^alpha (alpha 0:
                the plain log-probability, which favours short sequences; alpha 1: the mean
                log-probability per token).
nucleus_sample  top-p sampling: y_t is drawn from the nucleus, the smallest set of the most
                likely tokens whose probabilities sum to >= top_p, renormalised (tokens sorted
                by p descending, ties to the lower id; token k of that order is in the nucleus
                when the mass before it is < top_p). Diverse where search is not: BLIP's
                captioner samples so that its synthetic captions vary. top_p -> 0 keeps only
                the argmax (greedy decoding); top_p = 1 samples the model's own distribution.
"""

import numpy

from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor


def _check_prefix(prefix, name):
    try:
        prefix = numpy.asarray(prefix.numpy() if isinstance(prefix, Tensor) else prefix)
    except (TypeError, ValueError) as err:  # ragged lists, lists of tensors
        raise ShapeError(f"{name}: prefix must be a (batch, t) array of token ids, got "
                         f"{type(prefix).__name__} ({err})") from None
    if prefix.ndim != 2 or prefix.shape[0] == 0 or prefix.shape[1] == 0:
        raise ShapeError(f"{name}: prefix must be a non-empty (batch, t) array of token ids, "
                         f"got shape {prefix.shape}")
    if not numpy.issubdtype(prefix.dtype, numpy.integer):
        raise DTypeError(f"{name}: prefix must hold integer token ids, got dtype "
                         f"{prefix.dtype}")
    if (prefix < 0).any():
        raise ArgumentError(f"{name}: token ids must be >= 0, got {prefix.min()}")
    return prefix.astype(numpy.int64)


def _check_options(name, max_length, eos_id, pad_id, beam_size=1):
    for label, value, low in (("max_length", max_length, 1), ("beam_size", beam_size, 1),
                              ("eos_id", eos_id, 0), ("pad_id", pad_id, 0)):
        if not isinstance(value, (int, numpy.integer)) or isinstance(value, bool) or value < low:
            raise ArgumentError(f"{name}: {label} must be an integer >= {low}, got {value!r}")
    if eos_id == pad_id:
        raise ArgumentError(f"{name}: eos_id and pad_id must differ, both are {eos_id}")


def _log_probs(next_log_probs, ids, eos_id, pad_id, name):
    """Calls the model and checks what it returned: (rows, vocab) float64 host array."""
    out = next_log_probs(ids)
    out = numpy.asarray(out.numpy() if isinstance(out, Tensor) else out, dtype=numpy.float64)
    if out.ndim != 2 or out.shape[0] != ids.shape[0]:
        raise ShapeError(f"{name}: next_log_probs must return ({ids.shape[0]}, vocab) "
                         f"log-probabilities for ids of shape {ids.shape}, got {out.shape}")
    if max(eos_id, pad_id) >= out.shape[1]:
        raise ArgumentError(f"{name}: eos_id {eos_id} and pad_id {pad_id} must be token ids "
                            f"below the vocabulary size {out.shape[1]}")
    if numpy.isnan(out).any():
        raise ArgumentError(f"{name}: next_log_probs returned NaN for ids {ids.shape}")
    return out


def _trim(tokens, pad_id):
    """Drops the trailing columns that are padding in every row (all sequences ended)."""
    used = (tokens != pad_id).any(axis=0)
    length = int(numpy.flatnonzero(used)[-1]) + 1 if used.any() else 0
    return tokens[:, :max(length, 1)]


def greedy_decode(next_log_probs, prefix, max_length, eos_id, pad_id=0):
    """y_t = argmax_v next_log_probs(prefix + y_<t)[v] until eos_id or max_length tokens.

    prefix (batch, t0) int; returns (tokens (batch, T) int64 without the prefix, pad_id after
    each eos_id; scores (batch,) float64, the summed log-probabilities of the tokens chosen,
    eos_id included). Ties go to the lowest token id."""
    prefix = _check_prefix(prefix, "greedy_decode")
    _check_options("greedy_decode", max_length, eos_id, pad_id)
    batch = prefix.shape[0]
    tokens = numpy.full((batch, max_length), pad_id, dtype=numpy.int64)
    scores = numpy.zeros(batch)
    ended = numpy.zeros(batch, dtype=bool)
    for t in range(max_length):
        log_probs = _log_probs(next_log_probs, numpy.concatenate([prefix, tokens[:, :t]], 1),
                               eos_id, pad_id, "greedy_decode")
        choice = log_probs.argmax(axis=1)
        chosen = log_probs[numpy.arange(batch), choice]
        tokens[:, t] = numpy.where(ended, pad_id, choice)
        scores += numpy.where(ended, 0.0, chosen)
        ended |= choice == eos_id
        if ended.all():
            break
    return _trim(tokens, pad_id), scores


def _search_is_over(scores, ended, length_penalty):
    """True when no input can change its answer: every beam has ended or, with no length
    penalty, each input's best ended beam scores at least as high as its best live one (a
    live beam only loses score as it grows, log p <= 0). scores, ended: (batch, beam)."""
    if length_penalty:  # dividing by a longer length can raise a live beam's rank
        return bool(ended.all())
    best_ended = numpy.where(ended, scores, -numpy.inf).max(axis=1)
    best_live = numpy.where(ended, -numpy.inf, scores).max(axis=1)
    return bool((best_ended >= best_live).all())


def beam_search(next_log_probs, prefix, max_length, eos_id, beam_size=4, pad_id=0,
                length_penalty=0.0):
    """The best of beam_size beams ranked by summed log-probability (the module docstring).

    prefix (batch, t0) int; next_log_probs is called with (batch * beam_size, t) ids, row
    b * beam_size + k being beam k of input b. Returns (tokens (batch, T) int64 without the
    prefix, pad_id after eos_id; scores (batch,) the summed log-probability of each returned
    sequence, eos_id included). The final beams are ranked by score / length^length_penalty
    (length: generated tokens, eos_id included); during the search they are ranked by score.
    Among equal scores the earlier candidate (lower beam, then lower token id) wins, so
    beam_size 1 returns exactly greedy_decode's tokens."""
    prefix = _check_prefix(prefix, "beam_search")
    _check_options("beam_search", max_length, eos_id, pad_id, beam_size)
    if isinstance(length_penalty, bool) or not isinstance(
            length_penalty, (int, float, numpy.integer, numpy.floating)) or \
            not numpy.isfinite(length_penalty):
        raise ArgumentError(f"beam_search: length_penalty must be finite, got "
                            f"{length_penalty!r}")
    batch, k = prefix.shape[0], beam_size
    prefix = numpy.repeat(prefix, k, axis=0)                              # (B K, t0)
    tokens = numpy.full((batch * k, max_length), pad_id, dtype=numpy.int64)
    # all beams start as the same empty sequence: only beam 0 may expand at the first step,
    # or the beam would fill with k copies of the same candidates
    scores = numpy.tile(numpy.r_[0.0, numpy.full(k - 1, -numpy.inf)], batch)
    ended = numpy.zeros(batch * k, dtype=bool)
    lengths = numpy.zeros(batch * k, dtype=numpy.int64)
    for t in range(max_length):
        log_probs = _log_probs(next_log_probs, numpy.concatenate([prefix, tokens[:, :t]], 1),
                               eos_id, pad_id, "beam_search")
        vocab = log_probs.shape[1]
        candidates = scores[:, None] + log_probs                          # (B K, V)
        candidates[ended] = -numpy.inf
        candidates[ended, pad_id] = scores[ended]                         # an ended beam stays
        flat = candidates.reshape(batch, k * vocab)
        best = numpy.argsort(-flat, axis=1, kind="stable")[:, :k]         # (B, K)
        source = (numpy.arange(batch)[:, None] * k + best // vocab).reshape(-1)
        token = (best % vocab).reshape(-1)
        scores = numpy.take_along_axis(flat, best, axis=1).reshape(-1)
        tokens, lengths, was_ended = tokens[source], lengths[source], ended[source]
        tokens[:, t] = numpy.where(was_ended, pad_id, token)
        lengths = lengths + ~was_ended
        ended = was_ended | (token == eos_id)
        if _search_is_over(scores.reshape(batch, k), ended.reshape(batch, k), length_penalty):
            break
    ranking = scores / numpy.maximum(lengths, 1.0) ** length_penalty if length_penalty else scores
    winner = numpy.arange(batch) * k + ranking.reshape(batch, k).argmax(axis=1)
    return _trim(tokens[winner], pad_id), scores[winner]


def _check_top_p(top_p, name):
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float, numpy.integer,
                                                         numpy.floating)) or \
            not 0.0 < top_p <= 1.0:
        raise ArgumentError(f"{name}: top_p must be a number in (0, 1], got {top_p!r}")


def nucleus_sample(next_log_probs, prefix, max_length, eos_id, top_p=0.9, rng=None, pad_id=0):
    """y_t ~ p(v | prefix + y_<t) restricted to its top-p nucleus and renormalised (the module
    docstring), until eos_id or max_length tokens.

    prefix (batch, t0) int; rng a numpy Generator or a seed (one uniform number per row and
    step, so the same seed gives the same sequences). Returns (tokens (batch, T) int64 without
    the prefix, pad_id after each eos_id; scores (batch,) float64, the summed log-probabilities
    of the tokens drawn under the model, before the nucleus renormalisation)."""
    prefix = _check_prefix(prefix, "nucleus_sample")
    _check_options("nucleus_sample", max_length, eos_id, pad_id)
    _check_top_p(top_p, "nucleus_sample")
    rng = numpy.random.default_rng(rng)
    batch = prefix.shape[0]
    rows = numpy.arange(batch)
    tokens = numpy.full((batch, max_length), pad_id, dtype=numpy.int64)
    scores = numpy.zeros(batch)
    ended = numpy.zeros(batch, dtype=bool)
    for t in range(max_length):
        log_probs = _log_probs(next_log_probs, numpy.concatenate([prefix, tokens[:, :t]], 1),
                               eos_id, pad_id, "nucleus_sample")
        order = numpy.argsort(-log_probs, axis=1, kind="stable")          # (B, V) likeliest first
        p = numpy.exp(numpy.take_along_axis(log_probs, order, axis=1))
        mass_before = numpy.cumsum(p, axis=1) - p
        p = numpy.where(mass_before < top_p, p, 0.0)                      # the nucleus
        cdf = numpy.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        u = rng.random(batch)
        # the first sorted token whose cdf exceeds u; rounding can leave cdf[-1] a hair
        # below u, so the index is held inside the nucleus
        pick = numpy.minimum((cdf <= u[:, None]).sum(axis=1), (p > 0).sum(axis=1) - 1)
        choice = order[rows, pick]
        tokens[:, t] = numpy.where(ended, pad_id, choice)
        scores += numpy.where(ended, 0.0, log_probs[rows, choice])
        ended |= choice == eos_id
        if ended.all():
            break
    return _trim(tokens, pad_id), scores


def generate(next_log_probs, prefix, max_length, eos_id, beam_size=1, pad_id=0,
             length_penalty=0.0):
    """Token ids (batch, T) after ``prefix``: greedy decoding for beam_size 1, beam search
    otherwise (see greedy_decode and beam_search for the arguments)."""
    if not isinstance(beam_size, (int, numpy.integer)) or isinstance(beam_size, bool) or \
            beam_size < 1:
        raise ArgumentError(f"generate: beam_size must be an integer >= 1, got {beam_size!r}")
    if beam_size == 1:
        return greedy_decode(next_log_probs, prefix, max_length, eos_id, pad_id)[0]
    return beam_search(next_log_probs, prefix, max_length, eos_id, beam_size, pad_id,
                       length_penalty)[0]
