"""Notebook widgets: the settings form and progress bars.

The settings form starts from the settings in effect (:mod:`helpers.core.settings`:
the saved ones, unless the environment or ``workshop run``'s options choose
others), so a headless run executes the same cells with no one typing and
keeps the saved settings as they are.
"""

from __future__ import annotations

import html

import ipywidgets as w
from IPython.display import display

from helpers.base.regions import CITY_LABELS
from helpers.connect import session
from helpers.core import state, target
from helpers.core.config import ConfigError, WorkshopConfig, domain_problem, prefix_problem

_ERROR_STYLE = "color:#c62828;font-size:0.9em"


class SettingsForm:
    """Mode, regions, domain and prefix, validated as they are typed and saved when valid."""

    def __init__(self, initial: WorkshopConfig | None = None) -> None:
        config = initial or state.current_config()
        regions = [(f"{r} ({CITY_LABELS[r]})", r) for r in sorted(CITY_LABELS)]
        style = {"description_width": "9em"}
        layout = w.Layout(width="26em")
        self.mode = w.Dropdown(options=target.choices(), value=config.mode, description="Mode",
                               style=style, layout=layout)
        self.primary = w.Dropdown(options=regions, value=config.primary_region,
                                  description="Primary region", style=style, layout=layout)
        self.secondary = w.Dropdown(options=regions, value=config.secondary_region,
                                    description="Secondary region", style=style, layout=layout)
        self.domain = w.Text(value=config.domain, description="Domain", style=style,
                             layout=layout, continuous_update=True)
        self.prefix = w.Text(value=config.prefix, description="Participant prefix", style=style,
                             layout=layout, continuous_update=True)
        self.create_zone = w.Checkbox(
            value=config.create_zone, indent=False, layout=w.Layout(width="40em"),
            description="Create a hosted zone if the domain has none (AWS: 0.50 USD/month)")
        self.errors = {name: w.HTML() for name in ("mode", "primary_region", "secondary_region",
                                                   "domain", "prefix")}
        self.status = w.HTML()
        self.config: WorkshopConfig | None = None
        for field in (self.mode, self.primary, self.secondary, self.domain, self.prefix,
                      self.create_zone):
            field.observe(lambda _change: self._validate(), names="value")
        self._validate()

    def _values(self) -> dict[str, str]:
        return {"mode": self.mode.value, "primary_region": self.primary.value,
                "secondary_region": self.secondary.value, "domain": self.domain.value,
                "prefix": self.prefix.value, "create_zone": self.create_zone.value}

    def _validate(self) -> None:
        values = self._values()
        problems: dict[str, str] = {}
        if p := domain_problem(values["domain"]):
            problems["domain"] = p
        if p := prefix_problem(values["prefix"]):
            problems["prefix"] = p
        if not problems:
            try:
                self.config = WorkshopConfig(**values)
            except ConfigError as exc:
                problems[exc.field] = str(exc)
        for name, label in self.errors.items():
            text = problems.get(name)
            label.value = f"<span style='{_ERROR_STYLE}'>{html.escape(text)}</span>" if text else ""
        if problems:
            self.config = None
            self.status.value = (f"<b style='color:#c62828'>Not saved:</b> fix the "
                                 f"{len(problems)} field(s) marked in red.")
            return
        assert self.config is not None
        state.remember_config(self.config)
        session.use_mode(self.config.mode)  # this kernel's clients follow the saved mode
        self.status.value = ("<b style='color:#2e7d32'>Saved.</b> The next notebooks use "
                             f"<code>{self.config.prefix}</code> in "
                             f"<code>{self.config.primary_region}</code> and "
                             f"<code>{self.config.secondary_region}</code>.")

    def widget(self) -> w.Widget:
        rows = [w.HBox([field, self.errors[name]]) for name, field in (
            ("mode", self.mode), ("primary_region", self.primary),
            ("secondary_region", self.secondary), ("domain", self.domain),
            ("prefix", self.prefix))]
        return w.VBox([*rows, self.create_zone, self.status])

    def _ipython_display_(self) -> None:
        display(self.widget())

    def __repr__(self) -> str:  # what a stored notebook shows as text
        values = self._values()
        return "SettingsForm(" + ", ".join(f"{k}={v!r}" for k, v in values.items()) + ")"


class Progress:
    """A progress bar with a line of text, usable as the ``progress`` callback of helpers."""

    def __init__(self, total: int, description: str) -> None:
        self.bar = w.IntProgress(value=0, min=0, max=max(total, 1), description=description,
                                 style={"description_width": "initial"},
                                 layout=w.Layout(width="32em"))
        self.label = w.Label("")
        display(w.HBox([self.bar, self.label]))

    def __call__(self, message: str) -> None:
        self.bar.value = min(self.bar.value + 1, self.bar.max)
        self.label.value = message

    def done(self, message: str = "done") -> None:
        self.bar.value = self.bar.max
        self.bar.bar_style = "success"
        self.label.value = message

