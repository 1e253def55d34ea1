"""The run site's index summarises each notebook by its title and first paragraph."""

from __future__ import annotations

import nbformat
import pytest

from helpers.runs.run_index import summary


@pytest.mark.parametrize(("paragraph", "shown"), [
    ("Deploys the API.\nIt answers on /health.", "Deploys the API. It answers on /health."),
    # A lead-in to a list the index does not show: that sentence goes...
    ("Route 53 answers with the healthy copy. This needs, in order:",
     "Route 53 answers with the healthy copy."),
    # ...or, when it is all there is, ends as a sentence.
    ("Three functions behind a REST API, storing tickets in a table:",
     "Three functions behind a REST API, storing tickets in a table."),
    ("Open [the next one](02-ui-layer.ipynb).", 'href="02-ui-layer.html"'),
])
def test_summary_reads_as_a_sentence_and_links_the_site(tmp_path, paragraph, shown):
    path = tmp_path / "01-x.ipynb"
    source = f"# Module 1 · The API layer\n\n{paragraph}\n\n| a |\n|---|"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)]), path)
    title, purpose = summary(path)
    assert title == "Module 1 · The API layer"
    assert shown in purpose
