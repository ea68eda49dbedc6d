"""TF-IDF: weight each word of a document by how rare it is across the collection.

With counts c(t, d) of word t in document d, N documents, and df(t) the number of documents
that contain t:

    tf(t, d)  = c(t, d)                       (or 1 + log c(t, d) with sublinear_tf)
    idf(t)    = log((1 + N) / (1 + df(t))) + 1  (smoothed: as if one extra document held
                                               every word once, so no division by zero)
    x(t, d)   = tf(t, d) * idf(t), then each row scaled to unit L2 norm.

A word in every document ("the", "and") gets idf = 1, the smallest weight; a word in one
document gets idf = log((1 + N) / 2) + 1, the largest. Cosine similarity between TF-IDF rows
therefore rewards shared rare words, which is what makes two verses about the same thing
look alike, where raw counts mostly reward shared "the" and "and".

The idf is fitted on one collection (``fit``) and reused for new documents (``transform``),
the way a trained model is applied to test data. The names follow scikit-learn's
TfidfTransformer, which a reader may meet next.
"""

import numpy
import scipy.sparse

from ..errors import ArgumentError, ShapeError


def l2_normalize_rows(matrix):
    """Each row of a sparse matrix divided by its L2 norm (all-zero rows stay zero)."""
    matrix = scipy.sparse.csr_matrix(matrix, dtype=numpy.float32, copy=True)
    norms = numpy.sqrt(numpy.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = numpy.divide(1.0, norms, out=numpy.zeros_like(norms), where=norms > 0)
    return scipy.sparse.diags(scale.astype(numpy.float32)) @ matrix


class TfidfTransformer:
    """counts (n_docs, n_features) sparse -> TF-IDF rows (n_docs, n_features) float32 CSR."""

    def __init__(self, norm="l2", smooth_idf=True, sublinear_tf=False):
        if norm not in ("l2", None):
            raise ArgumentError(f"TfidfTransformer: norm must be 'l2' or None, got {norm!r}")
        self.norm, self.smooth_idf, self.sublinear_tf = norm, smooth_idf, sublinear_tf
        self.idf_ = None

    def fit(self, counts):
        """Learn idf(t) from the documents (rows) of ``counts``."""
        counts = scipy.sparse.csc_matrix(counts)
        n_docs = counts.shape[0]
        counts.eliminate_zeros()
        document_frequency = numpy.diff(counts.indptr).astype(numpy.float64)  # nonzeros/column
        smooth = 1.0 if self.smooth_idf else 0.0
        with numpy.errstate(divide="ignore"):
            idf = numpy.log((n_docs + smooth) / (document_frequency + smooth)) + 1.0
        self.idf_ = idf.astype(numpy.float32)  # +inf only for unseen words without smoothing
        return self

    def transform(self, counts):
        if self.idf_ is None:
            raise RuntimeError("TfidfTransformer.transform: call fit first")
        counts = scipy.sparse.csr_matrix(counts, dtype=numpy.float32, copy=True)
        if counts.shape[1] != self.idf_.size:
            raise ShapeError(f"TfidfTransformer.transform: counts have {counts.shape[1]} "
                             f"columns, the fitted idf has {self.idf_.size}")
        if self.sublinear_tf:  # sign kept for hashed features, whose counts can be negative
            counts.data = numpy.sign(counts.data) * (1.0 + numpy.log(numpy.abs(counts.data)))
        weighted = counts @ scipy.sparse.diags(self.idf_)
        return l2_normalize_rows(weighted) if self.norm == "l2" else weighted.tocsr()

    def fit_transform(self, counts):
        return self.fit(counts).transform(counts)
