"""Live GAN-lab page: figure refresh rate in a real browser and training speed while playing, compared
with the same engine training headless in the same run (targets: >= 10 fps, >= 80% of headless speed).

    .venv/bin/python bench/live_page.py [--seconds 8] [--rounds 7] [--json]

Starts the real server (app/server.py, with the frame feed) and headless Chromium (app/headless.py),
presses Play, and reads the frame timestamps the component records (window.__liveFigure.times) and the
training step from the figure's title. Headless speed (same defaults, one thread, one process of its own
started once) is measured in windows interleaved with the playing ones, while the page is paused; each playing
window is compared with the two headless windows around it, and all of them pooled (this shared machine's
speed drifts by tens of percent within a minute, so many short alternations beat a before-and-after). Also
reports the CPU each role used while playing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from app.headless import app_server, browser_page, live_frame
from playground.machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]


class Headless:
    """The engine training headless in a process of its own (default config, one thread, as the page's
    worker runs it), started once; `run(seconds)` trains that long and returns its steps per second."""

    CODE = (
        "import sys, time, torch; torch.set_num_threads(1)\n"
        "from playground.toy.config import ToyConfig\nfrom playground.toy.trainer import ToyGAN\n"
        "g = ToyGAN(ToyConfig()); g.train(20)\nprint('ready', flush=True)\n"
        "for line in sys.stdin:\n"
        "    t = time.perf_counter(); n = 0\n"
        "    while time.perf_counter() - t < float(line):\n"
        "        g.train(10); n += 10\n"
        "    print(n / (time.perf_counter() - t), flush=True)\n")

    def __enter__(self) -> "Headless":
        self.proc = subprocess.Popen([sys.executable, "-c", self.CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=ROOT)
        assert self.proc.stdout.readline().strip() == "ready"
        return self

    def run(self, seconds: float) -> float:
        self.proc.stdin.write(f"{seconds}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _proc_table() -> dict[int, tuple[str, float]]:
    """pid -> (role, CPU seconds so far) for every process we can read."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(d.name)] = (_role(cmd), (int(fields[11]) + int(fields[12])) / tick)
    return out


def _role(cmd: str) -> str:
    if "chromium" in cmd:
        m = re.search(r"--type=([a-z-]+)", cmd)
        return "chromium " + (m.group(1) if m else "browser")
    if "forkserver" in cmd:
        return "training (forkserver children)"
    if "streamlit" in cmd:
        return "app server"
    return "other"


def cpu_shares(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores used per role over the window (1.0 = one core busy all the time)."""
    shares: dict[str, float] = {}
    for pid, (role, t1) in after.items():
        t0 = before.get(pid, (role, 0.0))[1]
        shares[role] = shares.get(role, 0.0) + (t1 - t0) / seconds
    return {k: round(v, 2) for k, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v >= 0.01}


def step_of(frame) -> int:
    title = frame.evaluate("document.querySelector('.gtitle') ? document.querySelector('.gtitle').textContent : ''")
    return int(title.split()[1]) if title.startswith("step ") else 0


def play_window(page, frame, seconds: float) -> dict:
    """Press Play, warm up, measure `seconds`, press Pause."""
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(2000)                       # warm-up: feed, first full Plotly render
    t0, s0 = time.perf_counter(), step_of(frame)
    n0 = frame.evaluate("window.__liveFigure.frames")
    cpu0 = _proc_table()
    page.wait_for_timeout(int(seconds * 1000))
    t1, s1 = time.perf_counter(), step_of(frame)
    cpu1 = _proc_table()
    n1 = frame.evaluate("window.__liveFigure.frames")
    times = frame.evaluate("window.__liveFigure.times")
    timing = frame.evaluate("window.__liveFigure.serverTiming")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    gaps = sorted(b - a for a, b in zip(times[-(n1 - n0):], times[-(n1 - n0) + 1:])) if n1 - n0 > 1 else []
    return {"fps": (n1 - n0) / (t1 - t0), "page_steps_per_sec": (s1 - s0) / (t1 - t0),
            "frame_gap_ms_median": gaps[len(gaps) // 2] if gaps else None,
            "frame_gap_ms_p90": gaps[int(len(gaps) * 0.9)] if gaps else None,
            "last_server_timing": timing, "cpu_cores_by_role": cpu_shares(cpu0, cpu1, t1 - t0)}


def interleaved(seconds: float, rounds: int) -> list[dict]:
    """Headless, page, headless, page, ..., headless: each page window is compared with the headless
    windows either side of it, so the machine's drift (shared, noisy) cancels out of the ratio."""
    out = []
    with app_server() as url, browser_page() as page, Headless() as headless:
        page.goto(url + "/gan_lab")
        frame = live_frame(page)
        before = headless.run(seconds)                # the page is open and paused meanwhile
        for _ in range(rounds):
            window = play_window(page, frame, seconds)
            after = headless.run(seconds)
            window["headless_steps_per_sec"] = (before + after) / 2
            window["page_vs_headless"] = window["page_steps_per_sec"] / window["headless_steps_per_sec"]
            out.append(window)
            before = after
    return out


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each window")
    ap.add_argument("--rounds", type=int, default=7, help="page windows (each between two headless ones)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    windows = interleaved(args.seconds, args.rounds)
    cpu = cpu_model()
    rnd = lambda d: {k: (round(v, 3) if isinstance(v, float) else v) for k, v in d.items()}  # noqa: E731
    result = {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
              "python": platform.python_version(),
              "fps_median": round(_median([w["fps"] for w in windows]), 2),
              "page_vs_headless_median": round(_median([w["page_vs_headless"] for w in windows]), 3),
              # all playing windows against all headless ones: the least noisy single figure
              "page_vs_headless_pooled": round(sum(w["page_steps_per_sec"] for w in windows)
                                               / sum(w["headless_steps_per_sec"] for w in windows), 3),
              "windows": [rnd(w) for w in windows]}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            if k != "windows":
                print(f"{k:>24}: {v}")
        for i, w in enumerate(result["windows"]):
            print(f"window {i}: " + ", ".join(f"{k}={v}" for k, v in w.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
