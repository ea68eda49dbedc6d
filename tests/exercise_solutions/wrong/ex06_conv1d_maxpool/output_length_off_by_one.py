"""L_out = L - K (one window short): the last output position is missing."""

from exercise_solutions.ex06_conv1d_maxpool import Conv1d, MaxPool1d

CAUGHT_BY = "forward: conv1d"


class Conv1d(Conv1d):  # noqa: F811
    def forward(self, x, w):
        return super().forward(x, w)[:, :, :-1]


__all__ = ["Conv1d", "MaxPool1d"]
