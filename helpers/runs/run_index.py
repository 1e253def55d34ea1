"""The executed workshop as a small static site: ``<out>/index.html`` and the notebooks' HTML.

The index lists each notebook of the run with its title (the curriculum's,
:mod:`helpers.core.curriculum`) and purpose (the paragraph after the notebook's
first heading), how long it ran, and which checklist items it turned done;
the checklist after the run closes the page.
Links between the exported notebooks (their navigation cells point at
``.ipynb`` files) are rewritten to the ``.html`` pages, so the site can be
browsed from the folder alone; the charts are PNGs embedded in each page.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.base.paths import NOTEBOOKS
from helpers.core import curriculum
from helpers.core.config import WorkshopConfig
from helpers.core.target import SCALED_CLOCK

_NOTEBOOK_LINK = re.compile(r'href="([^"/:]+)\.ipynb(#[^"]*)?"')
_SITE_PAGES = {"index", *(m.notebook.removesuffix(".ipynb") for m in curriculum.CURRICULUM)}


@dataclass
class NotebookRun:
    name: str
    outcome: str  # "ran", "skipped" (its module already done) or "failed"
    seconds: float | None = None
    turned_done: list[str] = field(default_factory=list)


def summary(path: Path) -> tuple[str, str]:
    """(title, purpose as HTML): the notebook's first ``#`` heading and the paragraph after it."""
    import nbformat
    from nbconvert.filters import markdown2html

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        heading = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
        if heading is None:
            continue
        paragraph: list[str] = []
        for line in lines[heading + 1:]:
            if not line.strip():
                if paragraph:
                    break
                continue
            paragraph.append(line)
        text = re.sub(r"\(([^)\s]+)\.ipynb\)", r"(\1.html)", _without_lead_in(paragraph))
        return lines[heading][2:].strip(), markdown2html(text) if text else ""
    return path.stem, ""


def _without_lead_in(paragraph: list[str]) -> str:
    """The paragraph as a summary: a closing "...:" leads into a list the index does not show,
    so that sentence goes (or, when it is the only one, ends with a full stop)."""
    text = " ".join(line.strip() for line in paragraph)
    if not text.endswith(":"):
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(sentences[:-1]) if len(sentences) > 1 else text[:-1] + "."


def link_pages(out_dir: Path, names: Iterable[str]) -> None:
    """Point the exported notebooks' links at the site's pages instead of ``.ipynb`` files."""
    for name in names:
        page = out_dir / Path(name).with_suffix(".html").name
        if page.exists():
            text = page.read_text()
            fixed = site_links(out_dir, text)
            if fixed != text:
                page.write_text(fixed)


def site_links(out_dir: Path, text: str) -> str:
    """``href="NN-….ipynb"`` -> the ``.html`` page where the site has it (the index: always)."""
    def fix(match: re.Match[str]) -> str:
        stem, anchor = match[1], match[2] or ""
        if stem == "index" or (stem in _SITE_PAGES and (out_dir / f"{stem}.html").exists()):
            return f'href="{stem}.html{anchor}"'
        return match[0]
    return _NOTEBOOK_LINK.sub(fix, text)


def _picture(config: WorkshopConfig, status: Any) -> str:
    """The architecture picture after the run, as an embedded PNG ("" when it cannot be drawn:
    the page must not depend on it)."""
    if status is None:
        return ""
    import base64
    import io

    from helpers.views import architecture

    try:
        figure = architecture.draw(architecture.look(config, status))
    except Exception:
        return ""
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=90)
    data = base64.b64encode(png.getvalue()).decode()
    return ("<h2>The deployment after the run</h2><img alt='architecture: both regions, "
            f"replication and Route 53' style='max-width:100%' src='data:image/png;base64,{data}'>")


def write(out_dir: Path, config: WorkshopConfig, runs: list[NotebookRun],
          status: Any = None, time_scale: float | None = None) -> Path:
    """Write ``out_dir/index.html`` for ``runs``; ``status`` is the checklist after the run."""
    link_pages(out_dir, [r.name for r in runs if r.outcome != "skipped"])
    rows = []
    for run in runs:
        executed = out_dir / run.name
        heading, purpose = summary(executed if executed.exists() and run.outcome != "skipped"
                                   else NOTEBOOKS / run.name)
        module = curriculum.by_notebook(run.name)
        title = module.label if module else heading
        page = out_dir / Path(run.name).with_suffix(".html").name
        name = html.escape(run.name)
        link = (f"<a href='{html.escape(page.name)}'>{html.escape(title)}</a>"
                if run.outcome != "skipped" and page.exists() else html.escape(title))
        when = {"ran": f"{run.seconds:.1f} s" if run.seconds is not None else "",
                "failed": "<b style='color:#c62828'>failed</b>"
                + (f" after {run.seconds:.1f} s" if run.seconds is not None else ""),
                "skipped": "skipped: its module was already done"}[run.outcome]
        turned = "".join(f"<li>{html.escape(item)}</li>" for item in run.turned_done)
        rows.append(f"<tr><td><div class='title'>{link}</div><div class='file'>{name}</div>"
                    f"<div class='purpose'>{purpose}</div></td><td class='time'>{when}</td>"
                    f"<td><ul>{turned}</ul></td></tr>")
    scale = (f"<p>Sandbox time scale {time_scale:g}: on the sandbox's clock, health-check "
             f"intervals, DNS TTLs, quota windows and pending changes run {time_scale:g}&times; "
             "AWS's, while round trips between regions and stream polling run in real time, "
             "as on AWS (docs/aws-limits.md); every chart states it.</p>"
             if time_scale is not None and config.target.supports(SCALED_CLOCK) else "")
    total = sum(r.seconds or 0 for r in runs)
    checklist = ("<h2>Checklist after the run</h2><div class='checklist'>"
                 f"{site_links(out_dir, status.html())}</div>" if status is not None else "")
    picture = _picture(config, status)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Multi-region resilience workshop: executed notebooks</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em;
       color: #212121; line-height: 1.45; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-top: 1px solid #e0e0e0; padding: 0.6em 0.5em; vertical-align: top;
          text-align: left; }}
td:first-child {{ width: 55%; }} .title {{ font-weight: 600; }}
.file {{ color: #757575; font-size: 0.85em; }}
.purpose p {{ margin: 0.3em 0 0; }} .time {{ white-space: nowrap; }}
ul {{ margin: 0; padding-left: 1.1em; }} code {{ background: #f5f5f5; padding: 0 0.2em; }}
.checklist ul {{ padding-left: 0; }}
</style></head><body>
<h1>Multi-region resilience workshop</h1>
<p>Executed notebooks of a <code>workshop run</code> ({stamp}, {total:.1f} s of notebooks):
{html.escape(config.describe())}.</p>
{scale}
<table><thead><tr><th>notebook</th><th>run time</th><th>checklist items it turned done</th>
</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
{checklist}
{picture}
</body></html>
"""
    target = out_dir / "index.html"
    target.write_text(page)
    return target
