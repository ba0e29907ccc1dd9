"""The one vocabulary of run states, for every family (image models, VAEs and those to come).

    queued     the directory exists, the training process has not taken it yet
    running    a process owns it and trains (its `phase` says more: loading, training, evaluating...)
    completed  trained to its configured length
    failed     ended by an error (status.json's `error` says which), or its process vanished
    stopped    ended early on request (STOP file, SIGTERM, Ctrl-C); resumable

Runs written before this vocabulary (the VAE lab's `starting/loading/evaluating/done`) are read through
`normalise`, so an old run directory still lists with the right state.
"""

from __future__ import annotations

QUEUED, RUNNING, COMPLETED, FAILED, STOPPED = "queued", "running", "completed", "failed", "stopped"
STATES = (QUEUED, RUNNING, COMPLETED, FAILED, STOPPED)
ACTIVE = frozenset({QUEUED, RUNNING})             # a process is (or is about to be) working on it
FINISHED = frozenset({COMPLETED, FAILED, STOPPED})

# Older words -> (state, phase)
LEGACY = {"starting": (QUEUED, None), "loading": (RUNNING, "loading"), "evaluating": (RUNNING, "evaluating"),
          "done": (COMPLETED, None)}


def normalise(status: dict) -> dict:
    """`status` with its state in the vocabulary above (an unknown word becomes `failed`, saying so)."""
    state = status.get("state")
    if state in STATES:
        return status
    if state in LEGACY:
        new, phase = LEGACY[state]
        out = {**status, "state": new}
        if phase and not out.get("phase"):
            out["phase"] = phase
        return out
    return {**status, "state": FAILED, "error": status.get("error") or f"unknown state {state!r} in status.json"}
