"""Retrieval by cosine similarity between sparse document vectors.

    cos(q, d) = <q, d> / (|q| |d|)

Rows are scaled to unit length once, so one sparse matrix product Q D^T gives the cosine of
every query with every document; the k best documents of each query are picked with
``argpartition`` (O(n_docs) per query, not a full sort) and then ordered.
"""

import numpy

from ..errors import ArgumentError, ShapeError
from .tfidf import l2_normalize_rows


def cosine_top_k(queries, documents, k=10, batch_size=256):
    """For each query row, the k documents of highest cosine similarity.

    queries    sparse (n_queries, n_features)
    documents  sparse (n_docs, n_features)
    returns    (indices int64 (n_queries, k), scores float32 (n_queries, k)), best first.
    Queries go through in blocks of ``batch_size`` so the dense score block stays small.
    """
    if queries.shape[1] != documents.shape[1]:
        raise ShapeError(f"cosine_top_k: queries have {queries.shape[1]} features, documents "
                         f"{documents.shape[1]}")
    n_docs = documents.shape[0]
    if not 1 <= k <= n_docs:
        raise ArgumentError(f"cosine_top_k: k must be in [1, {n_docs}], got {k}")
    q = l2_normalize_rows(queries).tocsr()
    d_t = l2_normalize_rows(documents).T.tocsc()
    all_indices, all_scores = [], []
    for start in range(0, q.shape[0], batch_size):
        scores = (q[start:start + batch_size] @ d_t).toarray()
        top = numpy.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = numpy.take_along_axis(scores, top, axis=1)
        order = numpy.argsort(-top_scores, axis=1, kind="stable")
        all_indices.append(numpy.take_along_axis(top, order, axis=1))
        all_scores.append(numpy.take_along_axis(top_scores, order, axis=1))
    if not all_indices:
        return numpy.zeros((0, k), numpy.int64), numpy.zeros((0, k), numpy.float32)
    return (numpy.concatenate(all_indices).astype(numpy.int64),
            numpy.concatenate(all_scores).astype(numpy.float32))
