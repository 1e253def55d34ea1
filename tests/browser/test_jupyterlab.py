"""Notebooks run as a learner runs them: Run All in real JupyterLab, in headless Chromium.

While JupyterLab starts, modules 1 to 3.3 are deployed through the helpers
(``tests/workshop_steps.py``: seconds, where their notebooks take a minute). Then notebooks
00, 03.2 and 04 each open in JupyterLab and run with **Run > Run All Cells**, and the test
reads the page as the learner sees it once the last cell has run: every code cell ran (a
number in its prompt), no error output, every widget the kernel sent drawn (not "Loading
widget..." or "Error displaying widget"), and the live charts (03.2's item counts, 04's
flip and its drill dashboard) redrawn while their cell ran. A screenshot of each whole
notebook goes to ``out/jupyterlab/`` for a person to look at.

JupyterLab serves copies of ``notebooks/`` with their recorded outputs removed, so all the
test sees comes from this run. Its kernels act on this module's participant (the
``WORKSHOP_*`` variables, as ``workshop run`` hands them over) in this module's sandbox
(``WORKSHOP_SANDBOX_FILE``), at the workshop's clock: notebook 04 asserts its failover
bound (``tests/workshop_sandboxes.py``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from helpers.base.paths import NOTEBOOKS
from helpers.base.polling import wait_until
from helpers.sandbox import SandboxSettings, running_sandbox
from workshop_sandboxes import WORKSHOP_TIME_SCALE
from workshop_steps import deploy_regions, set_up_failover

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "out" / "jupyterlab"
# Deadlines, not bounds: a notebook asserts its own timings (04: the failover bound).
OPEN_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 300_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STDERR = "application/vnd.jupyter.stderr"  # also how JupyterLab shows an exception
LOADING_WIDGET = "Loading widget..."
WIDGET_FAILED = "Error displaying widget"
WIDGET_ERROR_VIEW = "jupyter-widgets-error-widget"

# The notebook on screen: its cells, their prompts, outputs and widget views.
_PANEL = "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"

# Done: no cell waits or runs ("[*]"), and the last code cell ran, or a cell failed (the
# kernel then skips the cells after it, which keep an empty prompt).
_RUN_ALL_FINISHED = f"""() => {{
  const panel = {_PANEL};
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent);
  if (prompts.length === 0 || prompts.some(p => p.includes('*'))) return false;
  return /\\[\\d+\\]/.test(prompts[prompts.length - 1])
    || panel.querySelector('.jp-OutputArea-output[data-mime-type="{STDERR}"]') !== null;
}}"""

# Records, for each watched cell, every new drawing of its chart (a hash of the image)
# made while the cell runs: a MutationObserver sees each redraw as it reaches the page.
_WATCH_CHARTS = f"""(watched) => {{
  const cells = {_PANEL}.querySelectorAll('.jp-Notebook .jp-Cell');
  window.liveCharts = {{}};
  for (const [label, index] of Object.entries(watched)) {{
    const cell = cells[index];
    const drawings = window.liveCharts[label] = [];
    new MutationObserver(() => {{
      const running = cell.querySelector('.jp-InputPrompt').textContent.includes('*');
      const image = cell.querySelector('.jp-OutputArea-output img');
      if (!running || !image) return;
      const src = image.getAttribute('src') || '';
      let hash = 2166136261;
      for (let i = 0; i < src.length; i++) hash = Math.imul(hash ^ src.charCodeAt(i), 16777619);
      const drawing = (hash >>> 0).toString(16);
      if (drawings[drawings.length - 1] !== drawing) drawings.push(drawing);
    }}).observe(cell, {{subtree: true, childList: true, attributes: true,
                        attributeFilter: ['src']}});
  }}
}}"""

# What the learner sees after the run, read from the page. A widget's output holds its view
# once drawn; until then, or instead, it says "Loading widget..." or "Error displaying
# widget", or shows ipywidgets' error view ("Click to show javascript error.").
_WHAT_IS_SHOWN = f"""() => {{
  const panel = {_PANEL};
  const outputs = [...panel.querySelectorAll('.jp-OutputArea-output')];
  return {{
    prompts: [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
      .map(p => p.textContent.trim()),
    texts: outputs.filter(o => o.dataset.mimeType === '{STDERR}'
        || o.classList.contains('jp-RenderedText')).map(o => o.textContent),
    widgets: [...panel.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets')]
      .filter(w => !w.querySelector('.{WIDGET_ERROR_VIEW}')).map(w => w.textContent.trim()),
    widgetFallbacks: outputs.filter(o => o.querySelector('.{WIDGET_ERROR_VIEW}')
        || o.textContent.startsWith('{LOADING_WIDGET}')
        || o.textContent.startsWith('{WIDGET_FAILED}'))
      .map(o => o.textContent.trim().slice(0, 300)),
  }};
}}"""

ERROR = re.compile(r"Traceback|^\w*(Error|Exception)\b", re.MULTILINE)


@pytest.fixture(scope="module", name="sandbox")
def sandbox_at_workshop_clock_without_quotas(sandbox):
    """The module's own sandbox at the workshop's clock, for 04's failover bound, without the
    account's quotas: the set-up's four custom domains are created at once, not one per 30
    AWS seconds (tests/sandbox/test_account_quotas.py tests that quota)."""
    settings = SandboxSettings(time_scale=WORKSHOP_TIME_SCALE, persist=False, quotas=False)
    with running_sandbox(settings) as info:
        yield info


@pytest.fixture(scope="module")
def lab(playwright_driver, sandbox, new_participant, tmp_path_factory, jupyter_lab):
    """JupyterLab over copies of the notebooks (outputs removed) and, deployed through the
    helpers while it starts, modules 1 to 3.3 of a participant of the module's own.

    The kernels inherit the participant's settings as ``WORKSHOP_*`` variables, this
    module's sandbox and workshop home (where the failover's state is kept), and import this
    checkout's helpers. Nothing is cleaned up: the sandbox is the module's own and keeps no
    state, so all of it is gone when the module ends (clean-up is tested elsewhere).
    ``playwright_driver`` first: without Chromium the test fails (or skips, with
    WORKSHOP_SKIP_BROWSER=1) before anything is deployed.
    """
    config = new_participant("lab")
    root = tmp_path_factory.mktemp("lab-notebooks")
    for source in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        notebook.metadata.pop("widgets", None)  # widget state saved with the recorded outputs
        nbformat.write(notebook, root / source.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("lab-home")))
        for key, value in config.as_dict().items():
            patch.setenv(f"WORKSHOP_{key.upper()}",
                         str(value).lower() if isinstance(value, bool) else value)
        pythonpath = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
        with jupyter_lab(root, {**os.environ, "PYTHONPATH": pythonpath}) as server:
            deploy_regions(config)
            set_up_failover(config, republish_ui=True)  # as 03.3 leaves it
            yield server.wait_until_answering()


@pytest.fixture(scope="module")
def chromium(launch_browser):
    with launch_browser() as context:
        yield context


def cell_index(path: Path, fragment: str) -> int:
    """The position among all cells (as the page lists them) of the first code cell whose
    source holds ``fragment``."""
    cells = nbformat.read(path, as_version=4).cells
    return next(i for i, cell in enumerate(cells)
                if cell.cell_type == "code" and fragment in cell.source)


def run_all(lab, chromium, open_tab, name: str, live: dict[str, str] | None = None) -> dict:
    """Open notebook ``name``, wait for its kernel, Run > Run All Cells, wait until the run
    ends; return what the page shows (prompts, texts, widgets), the JavaScript errors
    and the drawings of each ``live`` chart (label -> a fragment of its cell's source)."""
    watched = {label: cell_index(lab.root / name, fragment)
               for label, fragment in (live or {}).items()}
    with open_tab(chromium, expect_ms=OPEN_TIMEOUT_MS, action_ms=OPEN_TIMEOUT_MS) as tab:
        try:
            tab.goto(lab.notebook_url(name))
            panel = tab.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            wait_until(lambda: lab.kernel_connected(name), timeout=OPEN_TIMEOUT_MS / 1000,
                       interval=0.2, what=f"the kernel of {name} to start")
            expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
                "data-status", "idle")
            tab.evaluate(_WATCH_CHARTS, watched)
            tab.get_by_role("menuitem", name="Run", exact=True).click()
            tab.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            tab.wait_for_function(_RUN_ALL_FINISHED, timeout=RUN_TIMEOUT_MS, polling=250)
            expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
                "data-status", "idle")
            # The last widgets and images reach the page just after the last reply.
            expect(panel.get_by_text(LOADING_WIDGET)).to_have_count(0)
            shown = tab.evaluate(_WHAT_IS_SHOWN)
            # Saved (File > Save), the notebook says how many widget views the kernel sent.
            tab.keyboard.press("Control+s")
            expect(tab.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)
            shown["widget_views_sent"] = widget_views(lab.root / name)
            shown["live"] = tab.evaluate("() => window.liveCharts")
            shown["js_errors"] = list(tab.js_errors)
        finally:
            screenshot(tab, name)
            lab.shut_down_kernels()
    return shown


def widget_views(path: Path) -> int:
    """How many widget views the notebook's outputs hold (each one the page must draw)."""
    return sum(WIDGET_VIEW in output.get("data", {})
               for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
               for output in cell.outputs)


def screenshot(tab, name: str) -> None:
    """The whole notebook in one picture: the window made as tall as the notebook."""
    height = tab.evaluate(f"() => {_PANEL}?.querySelector('.jp-WindowedPanel-outer')"
                          "?.scrollHeight || 0")
    tab.set_viewport_size({"width": 1280, "height": min(max(height + 200, 800), 16_000)})
    tab.evaluate(f"() => {_PANEL}?.querySelector('.jp-WindowedPanel-outer')?.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"{Path(name).stem}.png", animations="disabled")


def assert_ran_cleanly(shown: dict, *, widgets_at_least: int) -> None:
    errors = [text for text in shown["texts"] if ERROR.search(text)]
    assert errors == [], "error output on the page:\n" + "\n---\n".join(errors)
    not_run = [i for i, prompt in enumerate(shown["prompts"]) if not re.match(r"\[\d+\]", prompt)]
    assert not_run == [], f"code cells {not_run} did not run: prompts {shown['prompts']}"
    assert shown["widgetFallbacks"] == [], "widgets not drawn"
    assert len(shown["widgets"]) == shown["widget_views_sent"] >= widgets_at_least, (
        f"{len(shown['widgets'])} widget(s) drawn of the {shown['widget_views_sent']} sent")
    assert shown["js_errors"] == []


def assert_redrawn_while_running(shown: dict, label: str) -> None:
    drawings = shown["live"][label]
    assert len(drawings) >= 3, (f"{label}: drawn {len(drawings)} time(s) while its cell ran; "
                                "a live chart changes at least twice")


def test_00_set_up_runs_and_its_settings_form_says_saved(lab, chromium, open_tab):
    shown = run_all(lab, chromium, open_tab, "00-set-up.ipynb")
    assert_ran_cleanly(shown, widgets_at_least=1)
    assert any("Saved." in widget for widget in shown["widgets"]), shown["widgets"]


def test_03_2_replicate_data_runs_with_its_item_counts_drawn_live(lab, chromium, open_tab):
    shown = run_all(lab, chromium, open_tab, "03.2-replicate-data.ipynb",
                    live={"item counts": "monitor.watch("})
    assert_ran_cleanly(shown, widgets_at_least=1)
    assert_redrawn_while_running(shown, "item counts")


def test_04_test_failover_runs_with_its_flip_and_drill_drawn_live(lab, chromium, open_tab):
    shown = run_all(lab, chromium, open_tab, "04-test-failover.ipynb",
                    live={"flip": "break_primary", "drill": "drill.run("})
    assert_ran_cleanly(shown, widgets_at_least=0)
    assert_redrawn_while_running(shown, "flip")
    assert_redrawn_while_running(shown, "drill")
