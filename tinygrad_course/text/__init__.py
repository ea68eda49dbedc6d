"""Words as data: tokens and a vocabulary, then documents as sparse vectors.

tokenizer.py     text -> tokens -> ids (Vocab with min_count and an unknown token)
bag_of_words.py  documents -> count vectors, with a vocabulary or with the hashing trick
tfidf.py         counts -> TF-IDF weights
retrieval.py     nearest documents by cosine similarity

All of it works on the host (NumPy and scipy.sparse): it prepares data before any tensor is
made. Models that learn from words (the n-gram language model, word2vec) are in models/.
"""

from .bag_of_words import bag_of_words, fnv1a_32, hashed_bag_of_words
from .retrieval import cosine_top_k
from .tfidf import TfidfTransformer, l2_normalize_rows
from .tokenizer import Vocab, encode_documents, tokenize

__all__ = ["tokenize", "Vocab", "encode_documents", "bag_of_words", "hashed_bag_of_words",
           "fnv1a_32", "TfidfTransformer", "l2_normalize_rows", "cosine_top_k"]
