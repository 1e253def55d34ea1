"""Tables a notebook shows whole: no value cut short with "...".

pandas shortens every cell past 50 characters when it draws a table (its
``display.max_colwidth``), which hides the words a comparison or an explanation is
made of. :class:`WholeTable` is a DataFrame that draws itself with every cell whole
(HTML wraps a long cell; text gives it the room it needs); anything derived from it
is an ordinary DataFrame.
"""

from __future__ import annotations

import pandas as pd


class WholeTable(pd.DataFrame):
    """A DataFrame shown with every cell whole."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            return super().__repr__()


def whole(frame: pd.DataFrame) -> WholeTable:
    """``frame`` shown with every cell whole."""
    return WholeTable(frame)
