"""The one preset type: a named, explained starting point for any config (GAN lab lessons, image recipes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.configs import from_dict


@dataclass(frozen=True)
class Preset:
    """`overrides` are config fields that differ from the class's defaults; `lesson` says what to watch for."""

    title: str
    lesson: str
    overrides: dict = field(default_factory=dict)

    def config(self, cls: type, **more: Any) -> Any:
        """The validated config of class `cls` with these overrides (and `more` on top)."""
        return from_dict(cls, {**self.overrides, **more})

    def describe(self) -> dict:
        """What `presets --json` prints for it."""
        return {"title": self.title, "lesson": self.lesson, "overrides": dict(self.overrides)}
