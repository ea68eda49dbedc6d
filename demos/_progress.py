"""A one-line progress display for long runs: the current demo, its epoch, elapsed time and ETA.

The tour starts a ``Progress`` for each demo; a demo that trains in epochs (or steps) reports
them with ``epoch(i, total)``, which costs nothing when no progress display is running:

    from demos import _progress
    for epoch in range(1, epochs + 1):
        _progress.epoch(epoch, epochs)
        ...

The line is redrawn on stderr (a terminal only) every second by a background thread:

    [12/31] ngram_lm  epoch 3/8  1:05 elapsed  ETA demo 1:40, tour 9:12

The ETAs come from the run times recorded in demos/RESULTS.json (the previous full run) and,
for the current demo, from the share of its epochs done.
"""

import sys
import threading
import time

_current = None  # the Progress being displayed, if any


def epoch(done, total, label="epoch"):
    """Report that ``done`` of ``total`` epochs (or steps: ``label``) have started."""
    if _current is not None:
        _current.report(done, total, label)


def _clock(seconds):
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Redraws ``[i/n] name  epoch e/E  elapsed  ETA`` once a second while a demo runs.

    ``expected`` is the demo's recorded run time and ``after`` the recorded time of the
    demos still to come in the tour (None: unknown, no tour ETA). Used as a context manager
    around one demo; on leaving, the line is cleared and ``restore`` (the text the tour had
    printed on it) is written back.
    """

    def __init__(self, position, name, expected=None, after=None, stream=None, restore=""):
        self.position, self.name = position, name
        self.expected, self.after, self.restore = expected, after, restore
        self.stream = stream if stream is not None else sys.stderr
        self.done = self.total = None
        self.label = "epoch"
        self._stop = threading.Event()
        self._thread = None

    def report(self, done, total, label):
        self.done, self.total, self.label = done, total, label

    def line(self, now):
        elapsed = now - self.start
        parts = [f"{self.position} {self.name}"]
        if self.total:
            parts.append(f"{self.label} {self.done}/{self.total}")
        parts.append(f"{_clock(elapsed)} elapsed")
        remaining = None
        if self.total and self.done and self.done > 1:
            remaining = elapsed * (self.total - self.done + 1) / (self.done - 1)
        elif self.expected is not None:
            remaining = self.expected - elapsed
        if remaining is not None:
            parts.append(f"ETA demo {_clock(remaining)}" + (
                "" if self.after is None else f", tour {_clock(remaining + self.after)}"))
        return "  ".join(parts)

    def _run(self):
        while not self._stop.wait(1.0):
            self.stream.write("\r\033[K" + self.line(time.perf_counter()))
            self.stream.flush()

    def __enter__(self):
        global _current
        self.start = time.perf_counter()
        _current = self
        if getattr(self.stream, "isatty", lambda: False)():
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        global _current
        _current = None
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r\033[K" + self.restore)
            self.stream.flush()
        return False
