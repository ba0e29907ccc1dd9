"""Families lab page: training speed while playing (two models side by side, the page's defaults: a flow and
flow matching on ring8) against the same lockstep training headless in the same run, and the frame rate.
Targets (issue 10): >= 10 fps, training >= 80% of headless speed.

    .venv/bin/python bench/families_page.py [--seconds 8] [--rounds 5] [--busy N] [--json]

`--busy N` runs N processes spinning on a core each for the whole run (page and headless windows alike), a
reproducible stand-in for other jobs on the machine. The spinners and the headless process each run in a
session of their own, as the page's training process does: where the kernel groups CPU time by session (Linux
autogroup), each of them is then one group, as an unrelated job would be.

Starts the real server (app/server.py, with the frame feed) and headless Chromium (app/headless.py:
Playwright driving /usr/bin/chromium), presses Play, and reads the lockstep step from the figure's header and
the frame times the component records, and the cores used per role (this bench's processes apart from other
jobs'). Headless speed: `Lockstep(default_setup()).advance` in a process of its
own (one thread), measured in windows interleaved with the playing ones while the page is paused; each page
window is compared with the headless windows either side of it (see bench/live_page.py for why).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import live_page  # bench/live_page.py (the script's folder is on sys.path): CPU shares per role, the median

from app.headless import app_server, browser_page, frames_drawn, live_frame, process_table
from playground.families.worker import PROCESS_NAME
from playground.machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
CODE = ("import sys, time, torch; torch.set_num_threads(1)\n"
        "from playground.families.lockstep import Lockstep\nfrom playground.families.setup import default_setup\n"
        "ls = Lockstep(default_setup()); [ls.tick() for _ in range(5)]\nprint('ready', flush=True)\n"
        "for line in sys.stdin:\n"
        "    t = time.perf_counter(); n = ls.advance(float(line))\n"
        "    print(n / (time.perf_counter() - t), flush=True)\n"
        "    if ls.step > 8000: ls = Lockstep(default_setup())\n")


def page_step(frame) -> int:
    """The lockstep step shown in the header ('1,234 / 10,000')."""
    text = frame.evaluate("(() => { const m = [...document.querySelectorAll('.metric')].find("
                          "m => m.firstChild.textContent === 'step'); return m ? m.lastChild.textContent : ''; })()")
    return int(text.split("/")[0].replace(",", "").strip() or 0)


def cpu_table() -> dict[int, tuple[str, float]]:
    """live_page's pid -> (role, CPU seconds), with this bench's own processes told from everybody else's (other
    jobs on a shared machine run servers and browsers too) and the families lab's training process by name."""
    procs, mine, todo = process_table(), set(), [os.getpid()]
    while todo:
        parent = todo.pop()
        kids = [pid for pid, (ppid, _, _) in procs.items() if ppid == parent]
        mine.update(kids)
        todo.extend(kids)
    out = {}
    for pid, (role, cpu) in live_page._proc_table().items():
        if pid not in mine:
            role = "other jobs"
        elif procs.get(pid, (0, ""))[1] == PROCESS_NAME:
            role = "page training process"
        out[pid] = (role, cpu)
    return out


def play_window(page, frame, seconds: float) -> dict:
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(2500)                       # warm-up: feed, first full render, training process
    t0, s0, n0, cpu0 = time.perf_counter(), page_step(frame), frames_drawn(frame), cpu_table()
    page.wait_for_timeout(int(seconds * 1000))
    t1, s1, n1, cpu1 = time.perf_counter(), page_step(frame), frames_drawn(frame), cpu_table()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    return {"fps": (n1 - n0) / (t1 - t0), "page_steps_per_sec": (s1 - s0) / (t1 - t0),
            "cpu_cores_by_role": live_page.cpu_shares(cpu0, cpu1, t1 - t0)}


def interleaved(seconds: float, rounds: int) -> list[dict]:
    out, others = [], []           # others: the cores other jobs used in each headless window
    headless = subprocess.Popen([sys.executable, "-c", CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, cwd=ROOT, start_new_session=True)

    def run_headless() -> float:
        c0 = cpu_table()
        headless.stdin.write(f"{seconds}\n")
        headless.stdin.flush()
        rate = float(headless.stdout.readline())
        others.append(live_page.cpu_shares(c0, cpu_table(), seconds).get("other jobs", 0.0))
        return rate

    try:
        assert headless.stdout.readline().strip() == "ready"
        with app_server() as url, browser_page() as page:
            page.goto(url + "/families")
            frame = live_frame(page)
            before = run_headless()
            for _ in range(rounds):
                w = play_window(page, frame, seconds)
                after = run_headless()
                w["headless_steps_per_sec"] = (before + after) / 2
                w["other_jobs_cores_headless"] = round((others[-2] + others[-1]) / 2, 2)
                w["page_vs_headless"] = w["page_steps_per_sec"] / w["headless_steps_per_sec"]
                out.append(w)
                before = after
    finally:
        headless.stdin.close()
        headless.wait(timeout=30)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--busy", type=int, default=0, help="processes that each keep a core busy meanwhile")
    args = ap.parse_args()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
                for _ in range(args.busy)]
    try:
        windows = interleaved(args.seconds, args.rounds)
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()
    cpu = cpu_model()
    result = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "cpu": cpu, "cores": os.cpu_count(),
              "load_average": os.getloadavg(), "busy": args.busy,
              "fps_median": round(live_page._median([w["fps"] for w in windows]), 2),
              "page_vs_headless_median": round(live_page._median([w["page_vs_headless"] for w in windows]), 3),
              "page_vs_headless_pooled": round(sum(w["page_steps_per_sec"] for w in windows)
                                               / sum(w["headless_steps_per_sec"] for w in windows), 3),
              "windows": [{k: round(v, 3) if isinstance(v, float) else v for k, v in w.items()} for w in windows]}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}" if k != "windows" else "\n".join(f"window {i}: {w}" for i, w in enumerate(v)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
