"""The config a resumed run continues with: the stored one, with only the settings that may change changed.

Flags given on resume that equal the stored values are accepted (a user repeating the original command
line with `--resume` changes nothing); a real change of a setting that would make the run a different run
is refused, naming the stored and the requested value.
"""

from __future__ import annotations

from typing import Any

from playground.configs import coerce, from_dict, from_saved, to_dict
from playground.errors import PlaygroundError
from playground.runs.rundir import RunDir


def resume_config(run: RunDir, cls: type, requested: dict[str, Any] | None, may_change: set[str]) -> Any:
    """The run's config with `requested` applied: equal values pass, `may_change` fields change, others refuse."""
    try:
        stored = from_saved(cls, run.config(), strict=False)
    except (OSError, ValueError) as e:
        raise PlaygroundError(f"{run.path}/config.json cannot be resumed: {e}") from None
    changes = {}
    for name, value in (requested or {}).items():
        new, old = coerce(cls, name, value), getattr(stored, name)
        if new == old:
            continue
        if name not in may_change:
            flag = "--" + name.replace("_", "-")
            raise PlaygroundError(f"{flag} cannot change when resuming: the run has {name}={old!r}, you asked for "
                                  f"{new!r} (only {', '.join(sorted(may_change))} may change)")
        changes[name] = new
    return from_dict(cls, {**to_dict(stored), **changes}) if changes else stored
