"""Embedding lookup, the rows of a table picked by integer ids: it lives in
ops/fused/embedding.py, beside its composed twin; imported here under the old path."""

from .fused.embedding import EmbeddingLookup, embedding, embedding_composed  # noqa: F401
