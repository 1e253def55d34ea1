"""The checklist's result: items, modules and a participant's status, as text, HTML and JSON.

Plain data, no AWS: :mod:`helpers.checklist.probes` and
:mod:`helpers.checklist.history` fill it in, the terminal, the notebooks and the
room view read it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from helpers.core import curriculum
from helpers.core.config import WorkshopConfig

SETUP_NOTEBOOK = curriculum.SET_UP.notebook

# The modules, their notebooks and sections: written once, in the curriculum.
MODULES = curriculum.MODULES
SECTIONS = curriculum.SECTIONS


@dataclass
class Item:
    id: str  # "<module>/<name>", e.g. "3.3/health-check"
    label: str
    done: bool
    detail: str
    notebook: str
    data: dict[str, Any] = field(default_factory=dict)  # numbers for machines (lag, counts)

    @property
    def section(self) -> str:
        return SECTIONS[self.id]

    @property
    def hint(self) -> str:
        return f"open {self.notebook}, section '{self.section}'"

    def as_dict(self) -> dict[str, Any]:
        found = {"id": self.id, "label": self.label, "done": self.done, "detail": self.detail,
                 "notebook": self.notebook, "section": self.section}
        if not self.done:
            found["next"] = self.hint
        if self.data:
            found["data"] = self.data
        return found


@dataclass
class Module:
    id: str
    title: str
    notebook: str
    items: list[Item]
    live: bool = True  # False: judged from the history, after a clean-up

    @property
    def done(self) -> bool:
        return all(item.done for item in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "notebook": self.notebook,
                "done_when": curriculum.module(self.id).done_when,
                "done": self.done, "live": self.live,
                "items": [item.as_dict() for item in self.items]}


@dataclass
class Status:
    config: WorkshopConfig
    modules: list[Module]
    cleaned_up: bool
    set_up: bool  # settings saved here (notebook 00), or something deployed already
    checked_at: str
    seconds: float = 0.0
    domain_source: str = "settings"  # or, in the room view: "health check", "custom domain",
    # "assumed" (not found anywhere: the instructor's own)
    endpoint_note: str = ""  # endpoint mode: which modules this endpoint can run

    def module(self, module_id: str) -> Module:
        return next(m for m in self.modules if m.id == module_id)

    @property
    def done(self) -> list[str]:
        return [m.id for m in self.modules if m.done]

    @property
    def complete(self) -> bool:
        return all(m.done for m in self.modules)

    @property
    def reached(self) -> str:
        """The last module of the unbroken run of done ones from module 1 (``"0"``: none)."""
        last = "0"
        for m in self.modules:
            if not m.done:
                break
            last = m.id
        return last

    def live_done(self, module_id: str) -> bool:
        """Is the module done *now* (deployed and working), not only in the history?"""
        m = self.module(module_id)
        return m.done and m.live

    @property
    def next(self) -> dict[str, str] | None:
        """The notebook (and section) to open next; None when the workshop is complete."""
        if not self.set_up and not self.done and not self.cleaned_up:
            section = SECTIONS["0/settings"]
            return {"module": "0", "notebook": SETUP_NOTEBOOK, "section": section,
                    "hint": f"open {SETUP_NOTEBOOK}, section '{section}'"}
        items = self.items()
        if items["4/broken"].done and not items["4/restored"].done and self.module("4").live:
            item = items["4/restored"]  # module 4's bad deploy is live: everything else waits
            return {"module": "4", "notebook": item.notebook, "section": item.section,
                    "hint": item.hint}
        for m in self.modules:
            if not m.done:
                item = next(i for i in m.items if not i.done)
                hint = item.hint
                if self.cleaned_up and m.id != "1":
                    hint = (f"everything was cleaned up: rebuild with `workshop run --until "
                            f"{_previous(m.id)}`, then {hint}")
                return {"module": m.id, "notebook": m.notebook, "section": item.section,
                        "hint": hint}
        return None

    def items(self) -> dict[str, Item]:
        return {item.id: item for m in self.modules for item in m.items}

    def as_dict(self) -> dict[str, Any]:
        c = self.config
        return {"prefix": c.prefix, "mode": c.mode, "domain": c.domain,
                "domain_source": self.domain_source,
                "regions": {"primary": c.primary_region, "secondary": c.secondary_region},
                "checked_at": self.checked_at, "seconds": round(self.seconds, 2),
                "done": self.done, "reached": self.reached, "complete": self.complete,
                "cleaned_up": self.cleaned_up, "next": self.next,
                "endpoint_note": self.endpoint_note,
                "modules": [m.as_dict() for m in self.modules]}

    def text(self, heading: bool = True) -> str:
        """The checklist for a terminal; ``heading``: first the participant's settings."""
        lines = [self.config.describe(), ""] if heading else []
        for m in self.modules:
            state_word = "done" if m.done else "to do"
            if m.done and not m.live:
                state_word = "done, since cleaned up"
            lines.append(f"Module {m.id} · {m.title}  ({m.notebook}): {state_word}")
            for item in m.items:
                lines.append(f"  {'✓' if item.done else '·'} {item.label}: {item.detail}")
                if not item.done and m.live:
                    lines.append(f"      -> {item.hint}")
        nxt = self.next
        if self.endpoint_note:
            lines += ["", self.endpoint_note]
        lines += ["", f"next: {nxt['hint']}" if nxt else
                  "complete: every module done and everything cleaned up"]
        return "\n".join(lines)

    def html(self) -> str:
        """The checklist as HTML (the notebook widget and the run's index page)."""
        parts = [f"<div><b>Participant <code>{_e(self.config.prefix)}</code></b> · "
                 f"{_e(self.config.describe())}</div>"]
        for m in self.modules:
            mark = "&#10004;" if m.done else "&#9675;"
            since = " (since cleaned up)" if m.done and not m.live else ""
            parts.append(f"<div style='margin-top:0.4em'>{mark} <b>Module {_e(m.id)} · "
                         f"{_e(m.title)}</b>{since} &mdash; <a href=\"{_e(m.notebook)}\">"
                         f"{_e(m.notebook)}</a></div><ul style='margin:0.1em 0 0 1.2em'>")
            for item in m.items:
                tick = "&#10003;" if item.done else "&#8226;"
                todo = "" if item.done or not m.live else (
                    f"<br><span style='color:#616161'>&rarr; {_e(item.hint)}</span>")
                parts.append(f"<li style='list-style:none'>{tick} {_e(item.label)} "
                             f"<span style='color:#616161'>({_e(item.detail)})</span>{todo}</li>")
            parts.append("</ul>")
        nxt = self.next
        if self.endpoint_note:
            parts.append(f"<div style='margin-top:0.5em'>{_e(self.endpoint_note)}</div>")
        parts.append(f"<div style='margin-top:0.5em'><b>Next:</b> {_e(nxt['hint'])}</div>" if nxt
                     else "<div style='margin-top:0.5em'><b>Complete:</b> every module done "
                          "and everything cleaned up.</div>")
        return "\n".join(parts)


def module_for(notebook: str) -> str | None:
    """The module a numbered notebook completes (None for the set-up and the index)."""
    return next((m.id for m in MODULES if m.notebook == notebook), None)


def turned_done(before: Status, after: Status) -> list[str]:
    """Checklist items done in ``after`` but not in ``before``, as ``"<module> · <label>"``."""
    was = {key: item.done for key, item in before.items().items()}
    return [f"{key.split('/')[0]} · {item.label}" for key, item in after.items().items()
            if item.done and not was.get(key, False)]


def _previous(module_id: str) -> str:
    """The notebook number before ``module_id``'s notebook, e.g. ``"03.2"`` for ``"3.3"``."""
    index = [m.id for m in MODULES].index(module_id)
    return MODULES[max(index - 1, 0)].notebook.split("-")[0]


def _e(text: Any) -> str:
    return html.escape(str(text))

