"""Module 4.1's side by side: a modelled lag is called modelled, and every cell reads whole."""

from __future__ import annotations

from types import SimpleNamespace

from helpers.aws import replication_methods as methods
from helpers.aws.replication import MODELLED, Lags

DRILL = SimpleNamespace(rpo_items_at_switch=2, rpo_items_after_drain=0, rpo_seconds_at_switch=0.21,
                        rpo_seconds_after_drain=None, rto_seconds=5.0)


def both():
    streams = methods.figures(Lags([0.6, 0.62, 0.8]), DRILL)
    global_table = methods.figures(
        Lags([0.23, 0.24, 0.26], MODELLED, "one modelled round trip"), DRILL)
    return streams, global_table


def test_each_lag_says_whether_it_is_measured_or_modelled():
    streams, global_table = both()
    assert (streams["lag_basis"], global_table["lag_basis"]) == ("measured", "modelled")
    assert methods.figures([0.1, 0.2], DRILL)["lag_basis"] == "measured"  # a plain list
    table = methods.comparison(streams, global_table)
    assert table.loc["replication lag p50"].tolist() == ["620 ms (measured)",
                                                         "240 ms (modelled)"]


def test_the_side_by_side_table_is_shown_whole():
    table = methods.comparison(*both())
    longest = max((cell for row in table.itertuples() for cell in row[1:]), key=len)
    assert len(longest) > 50  # pandas would cut it to 50 characters with "..."
    for shown in (table._repr_html_(), repr(table)):
        assert longest in shown and "..." not in shown


def test_the_chart_labels_a_modelled_lag_modelled():
    fig = methods.comparison_chart(*both())
    assert "modelled (global table)" in fig._suptitle.get_text()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Streams + the kit's replicator", "global table (modelled)"]
    measured = methods.comparison_chart(methods.figures([0.6], DRILL),
                                        methods.figures([0.2], DRILL))
    assert "modelled" not in measured._suptitle.get_text()
