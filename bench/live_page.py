"""Live GAN-lab page: figure refresh rate in a real browser and training speed while playing, compared
with the same engine training headless in the same run (targets: >= 10 fps, >= 80% of headless speed).

    .venv/bin/python bench/live_page.py [--seconds 20] [--json]

Starts the real server (app/server.py, with the frame feed) and headless Chromium (tests/browser_harness.py),
presses Play, and reads the
frame timestamps the component records (window.__liveFigure.times) and the training step from the
figure's title. Headless speed is measured before and after the page run (same defaults, one thread).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_harness import app_server, browser_page, live_frame  # noqa: E402


def headless_steps_per_sec(seconds: float) -> float:
    """Engine speed in a fresh process (as the page's worker runs it): default config, one thread."""
    code = (
        "import time, torch; torch.set_num_threads(1)\n"
        "from playground.toy.config import ToyConfig\nfrom playground.toy.trainer import ToyGAN\n"
        "g = ToyGAN(ToyConfig()); g.train(20)\n"
        f"t = time.perf_counter(); n = 0\nwhile time.perf_counter() - t < {seconds}:\n"
        "    g.train(10); n += 10\nprint(n / (time.perf_counter() - t))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip())


def step_of(frame) -> int:
    title = frame.evaluate("document.querySelector('.gtitle') ? document.querySelector('.gtitle').textContent : ''")
    return int(title.split()[1]) if title.startswith("step ") else 0


def page_run(seconds: float) -> dict:
    with app_server() as url, browser_page() as page:
        page.goto(url + "/gan_lab")
        frame = live_frame(page)
        page.get_by_role("button", name="Play").click()
        page.wait_for_timeout(3000)                       # warm-up: worker, WebGL context
        t0, s0 = time.perf_counter(), step_of(frame)
        n0 = frame.evaluate("window.__liveFigure.frames")
        page.wait_for_timeout(int(seconds * 1000))
        t1, s1 = time.perf_counter(), step_of(frame)
        n1 = frame.evaluate("window.__liveFigure.frames")
        times = frame.evaluate("window.__liveFigure.times")
        render_ms = frame.evaluate("window.__liveFigure.renderMs")
        from_feed = frame.evaluate("window.__liveFigure.feedFrames")
        page.get_by_role("button", name="Pause").click()
    gaps = [b - a for a, b in zip(times[-(n1 - n0):], times[-(n1 - n0) + 1:])] if n1 - n0 > 1 else []
    gaps.sort()
    return {"fps": (n1 - n0) / (t1 - t0), "page_steps_per_sec": (s1 - s0) / (t1 - t0),
            "frame_gap_ms_median": gaps[len(gaps) // 2] if gaps else None,
            "frame_gap_ms_p90": gaps[int(len(gaps) * 0.9)] if gaps else None,
            "last_render_ms": render_ms, "frames_from_feed": from_feed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    before = headless_steps_per_sec(args.seconds / 2)
    page = page_run(args.seconds)
    after = headless_steps_per_sec(args.seconds / 2)
    headless = (before + after) / 2
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    result = {"date": datetime.date.today().isoformat(), "cpu": cpu, "python": platform.python_version(),
              "headless_steps_per_sec": round(headless, 1), **{k: (round(v, 2) if isinstance(v, float) else v)
                                                                for k, v in page.items()},
              "page_vs_headless": round(page["page_steps_per_sec"] / headless, 3)}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
