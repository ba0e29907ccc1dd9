"""The history of a live page: its frames (snapshots) with a scrubber, states to branch from, GIF/MP4 export.

A History keeps at most `max_frames` frames and `max_states` states, within `max_state_bytes`. When it is
full it thins itself: every other entry goes (never the first or the newest), and the recording interval
doubles, so a long run keeps frames spread over the whole of it. A frame is whatever the page draws (a dict
of numpy arrays, its "snapshot"); a state is whatever restores the trainer exactly (state dicts, optimiser
moments, generator states). Frames are cheap, states are not: only some frames keep one, and branching from a
frame without one goes back to the nearest earlier frame that has one.

Export renders each frame to an RGB picture with a callback (see `playground.raster`) and encodes them with
imageio: GIF with Pillow, MP4 with the ffmpeg binary that the `imageio-ffmpeg` wheel ships (nothing is
downloaded at run time).

Nothing here knows about models or Streamlit: the families lab uses it, the GAN lab can.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playground.errors import PlaygroundError

MAX_EXPORT_FRAMES = 400


@dataclass
class Entry:
    step: int
    frame: Any
    state: Any = None
    nbytes: int = 0
    meta: dict = field(default_factory=dict)


class History:
    """Frames by step, bounded; `record` is thread-safe (the live loop and the page may both call it)."""

    def __init__(self, max_frames: int = 120, max_states: int = 24, max_state_bytes: int = 400_000_000,
                 every: int = 1):
        if max_frames < 2 or max_states < 1:
            raise PlaygroundError("a history keeps at least 2 frames and 1 state")
        self.max_frames, self.max_states, self.max_state_bytes = max_frames, max_states, max_state_bytes
        self.every = max(1, int(every))          # record at most one frame per `every` steps (doubles when thinned)
        self.entries: list[Entry] = []
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def steps(self) -> list[int]:
        return [e.step for e in self.entries]

    def due(self, step: int) -> bool:
        """Whether a frame at `step` should be recorded (the first, then one per `every` steps)."""
        with self._lock:
            return not self.entries or step >= self.entries[-1].step + self.every

    def record(self, step: int, frame: Any, state: Any = None, nbytes: int = 0, force: bool = False,
               **meta: Any) -> bool:
        """Add a frame (and optionally a state of about `nbytes`); a frame at the newest entry's step replaces
        it. Returns whether it was kept (`force` keeps it even when not `due`)."""
        with self._lock:
            if self.entries and step < self.entries[-1].step:
                raise PlaygroundError(f"history goes forward: step {step} after {self.entries[-1].step}")
            if self.entries and step == self.entries[-1].step:
                old = self.entries.pop()
                state = state if state is not None else old.state
                nbytes = nbytes if state is not old.state else old.nbytes
            elif not (force or self.due(step)):
                return False
            self.entries.append(Entry(int(step), frame, state, int(nbytes) if state is not None else 0, meta))
            self._thin()
            return True

    def _thin(self) -> None:
        if len(self.entries) > self.max_frames:
            self.entries = self._every_other(self.entries)
            self.every *= 2
        while True:
            held = [e for e in self.entries if e.state is not None]
            if len(held) <= self.max_states and sum(e.nbytes for e in held) <= self.max_state_bytes:
                return
            if len(held) <= 2:                   # never drop the first and the newest state
                if len(held) == 2 and held[0].nbytes + held[1].nbytes > self.max_state_bytes:
                    held[0].state, held[0].nbytes = None, 0
                return
            keep = set(map(id, self._every_other(held)))
            for e in held:
                if id(e) not in keep:
                    e.state, e.nbytes = None, 0

    @staticmethod
    def _every_other(items: list) -> list:
        """Every other item, always keeping the first and the last."""
        if len(items) <= 2:
            return list(items)
        out = items[:-1:2]
        if out[-1] is not items[-1]:
            out.append(items[-1])
        return out

    # --- looking back
    def frame(self, index: int) -> Entry:
        """The entry at `index` (negative counts from the newest), exactly as it was recorded."""
        with self._lock:
            if not self.entries:
                raise PlaygroundError("the history is empty")
            if not -len(self.entries) <= index < len(self.entries):
                raise PlaygroundError(f"history frame {index} does not exist (0..{len(self.entries) - 1})")
            return self.entries[index]

    def branch_point(self, index: int) -> tuple[int, Entry]:
        """(index, entry) of the newest entry at or before `index` that holds a state."""
        with self._lock:
            self.frame(index)
            index %= len(self.entries)
            for i in range(index, -1, -1):
                if self.entries[i].state is not None:
                    return i, self.entries[i]
        raise PlaygroundError("no saved state at or before this frame to branch from")

    def truncate(self, index: int) -> None:
        """Forget everything after entry `index` (a branch rewrites the future)."""
        with self._lock:
            self.frame(index)
            del self.entries[index % len(self.entries) + 1:]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

    def state_bytes(self) -> int:
        return sum(e.nbytes for e in self.entries if e.state is not None)

    # --- export
    def pictures(self, render: Callable[[Entry], np.ndarray], first: int = 0, last: int | None = None,
                 max_frames: int = MAX_EXPORT_FRAMES) -> list[np.ndarray]:
        """Each entry from `first` to `last` rendered to an (H, W, 3) uint8 picture (at most `max_frames`,
        evenly spread)."""
        with self._lock:
            entries = self.entries[first:None if last is None else last + 1]
        if not entries:
            raise PlaygroundError("the history is empty: play or step first")
        if len(entries) > max_frames:
            keep = np.unique(np.linspace(0, len(entries) - 1, max_frames).round().astype(int))
            entries = [entries[i] for i in keep]
        pics = [np.asarray(render(e), dtype=np.uint8) for e in entries]
        shape = pics[0].shape
        if any(p.shape != shape for p in pics) or len(shape) != 3 or shape[2] != 3:
            raise PlaygroundError("history pictures must all be (H, W, 3) and of one size")
        return pics


def encode_gif(pictures: list[np.ndarray], fps: float = 8.0, hold_last_s: float = 1.0) -> bytes:
    """An animated GIF (looping) of uint8 (H, W, 3) pictures; the last one stays `hold_last_s` seconds."""
    import imageio.v3 as iio

    if not pictures:
        raise PlaygroundError("nothing to export: the history is empty")
    ms = max(20, int(round(1000 / fps)))
    durations = [ms] * len(pictures)
    durations[-1] = max(ms, int(hold_last_s * 1000))
    frames = np.stack(pictures)
    # Pillow takes a list of durations only for several frames (one frame with a list raised TypeError)
    return iio.imwrite("<bytes>", frames, extension=".gif", duration=durations if len(durations) > 1 else ms,
                       loop=0)


def mp4_available() -> bool:
    """Whether the ffmpeg binary of the imageio-ffmpeg wheel is there."""
    try:
        import imageio_ffmpeg

        return bool(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError, OSError):
        return False


def encode_mp4(pictures: list[np.ndarray], fps: float = 8.0) -> bytes:
    """An H.264 MP4 of uint8 (H, W, 3) pictures (sides padded to even numbers, as yuv420p needs)."""
    import imageio.v3 as iio

    if not pictures:
        raise PlaygroundError("nothing to export: the history is empty")
    if not mp4_available():
        raise PlaygroundError("MP4 export needs the imageio-ffmpeg package (pip install imageio-ffmpeg)")
    frames = np.stack(pictures)
    h, w = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    buf = io.BytesIO()
    iio.imwrite(buf, frames, extension=".mp4", fps=fps, codec="libx264", macro_block_size=1,
                output_params=["-pix_fmt", "yuv420p"])
    return buf.getvalue()
