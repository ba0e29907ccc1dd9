"""Reliability of image runs: kill -9 the training process at random moments, check the run directory, resume.

    python bench/image_kill.py                 # 20 kills, then finish and compare with an uninterrupted run
    python bench/image_kill.py --trials 5      # quicker

Each trial starts the trainer (a new run the first time, `--resume` afterwards) with the real CLI, waits until
it trains, sleeps a random time (seeded) and sends SIGKILL; a quarter of the resumed trials are instead killed
at a random moment after spawn, which may fall in start-up (loading the checkpoint, rewriting metrics.jsonl). Then it checks, reading only the disk:
  - config.json and status.json parse as JSON objects, and the run is reported failed (process gone), not running
  - checkpoints/latest.pt (and best.pt when present) load with the weights-only loader, at a step the run reached
  - every sample grid is a readable PNG; metrics.jsonl has at most one cut line (the last)
  - no temp file is left behind after the next resume (a kill between write and rename leaves one)
and counts the steps lost (last logged step minus the checkpoint's step). After the last kill the run is resumed
to the end, and its final weights, optimiser state and EMA are compared with an uninterrupted run of the same
config: resuming from checkpoints must give the same run bit for bit.

Prints one JSON object (machine, date, per-trial records, summary).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playground.errors import PlaygroundError
from playground.images.trainer import load_run_checkpoint as load_checkpoint
from playground.machine import cpu_model
from playground.runs.rundir import RunDir

BIG = 10_000_000          # the kill phase's step budget: no trial may finish the run before it is killed


def train_args(out: Path, steps: int, checkpoint_every: int) -> list[str]:
    return ["--dataset", "digits", "--model", "dcgan", "--steps", str(steps), "--batch-size", "32", "--g-width", "32",
            "--d-width", "32", "--latent-dim", "16", "--checkpoint-every", str(checkpoint_every), "--log-every", "5",
            "--sample-every", "25", "--eval-every", "100", "--eval-samples", "64", "--final-eval", "0",
            "--features", "random", "--threads", "1", "--seed", "3", "--out", str(out), "--json"]


def spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "playground", "images", "train", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_training(run: RunDir, proc: subprocess.Popen, after_step: int, need_checkpoint: bool,
                  timeout: float = 120.0) -> None:
    """Until this process's trainer runs past `after_step` (and has written a checkpoint, if asked)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"trainer exited early ({proc.returncode}): {proc.stderr.read()[-500:]}")
        try:
            st = json.loads(run.status_path.read_text())
        except (OSError, ValueError):
            st = {}
        if st.get("pid") == proc.pid and st.get("state") == "running" and int(st.get("step") or 0) > after_step \
                and (not need_checkpoint or st.get("checkpoint_step")):
            return
        time.sleep(0.02)
    raise RuntimeError("the trainer did not start training in time")


def temp_files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob(".*.tmp"))


def check(run: RunDir) -> dict:
    """Everything a reader (the UI, a resume) needs, read from disk after the kill."""
    from PIL import Image

    problems = []
    for name in ("config.json", "status.json"):
        try:
            if not isinstance(json.loads((run.path / name).read_text()), dict):
                problems.append(f"{name} is not an object")
        except (OSError, ValueError) as e:
            problems.append(f"{name}: {e}")
    st = run.effective_status()
    if st.get("state") != "failed" or not st.get("process_gone"):
        problems.append(f"state after the kill is {st.get('state')!r}, not failed/process gone")
    steps = {}
    for which in ("latest", "best"):
        p = run.checkpoints_dir / f"{which}.pt"
        if p.exists():
            try:
                steps[which] = int(load_checkpoint(p)["step"])
            except PlaygroundError as e:
                problems.append(f"{which}.pt: {e}")
    if "latest" not in steps:
        problems.append("no loadable latest checkpoint")
    for _, p in run.samples():
        try:
            with Image.open(p) as im:
                im.load()
        except OSError as e:
            problems.append(f"{p.name}: {e}")
    lines = run.metrics_path.read_text().splitlines() if run.metrics_path.exists() else []
    bad = [i for i, ln in enumerate(lines) if not _is_json(ln)]
    if bad and bad != [len(lines) - 1]:
        problems.append(f"metrics.jsonl has unreadable lines {bad}")
    logged = max((r["step"] for r in run.read_metrics()), default=0)
    return {"ok": not problems, "problems": problems, "checkpoint_step": steps.get("latest"),
            "best_step": steps.get("best"), "last_logged_step": logged, "cut_metrics_line": bool(bad),
            "temp_files": temp_files(run.path)}


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def flat_state(path: Path) -> dict:
    import torch

    ck = load_checkpoint(path)
    out = {}
    for name, sd in list(ck["nets"].items()) + [("ema", ck["ema"] or {})]:
        for k, v in sd.items():
            out[f"{name}.{k}"] = v
    for name, sd in ck["opts"].items():
        for pid, st in sd["state"].items():
            for k, v in st.items():
                out[f"opt.{name}.{pid}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    return out


def machine() -> dict:
    import torch

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(), "python": platform.python_version(), "torch": str(torch.__version__)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--max-delay", type=float, default=4.0, help="kill within this many seconds of training")
    ap.add_argument("--early", type=float, default=0.25,
                    help="share of resumed trials killed at a random moment after spawn (start-up included)")
    ap.add_argument("--early-window", type=float, default=6.0, help="seconds after spawn for those kills")
    ap.add_argument("--checkpoint-every", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill schedule")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t_start = time.time()
    trials = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "killed"
        run = RunDir(out)
        for i in range(args.trials):
            resume = i > 0
            start_step = trials[-1]["checkpoint_step"] if resume else 0
            proc = spawn(["--resume", str(out), "--json"] if resume else train_args(out, BIG, args.checkpoint_every))
            early = resume and rng.random() < args.early
            if early:        # anywhere from start-up (imports, loading the checkpoint, rewriting metrics) on
                delay = rng.uniform(0.0, args.early_window)
            else:            # while it trains
                wait_training(run, proc, after_step=start_step or 0, need_checkpoint=not resume)
                delay = rng.uniform(0.0, args.max_delay)
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stderr.close()
            rec = {"trial": i + 1, "when": "after spawn" if early else "while training", "delay_s": round(delay, 3),
                   "resumed_from": start_step if resume else None,
                   **check(run)}
            rec["steps_lost"] = max(0, rec["last_logged_step"] - (rec["checkpoint_step"] or 0))
            trials.append(rec)
            print(json.dumps(rec), file=sys.stderr, flush=True)
            if not rec["ok"]:
                break
        # Finish: resume to a fixed end, then train the same config uninterrupted and compare.
        final_steps = (trials[-1]["checkpoint_step"] or 0) + 40
        proc = spawn(["--resume", str(out), "--steps", str(final_steps), "--json"])
        _, err = proc.communicate(timeout=600)
        finished = {"returncode": proc.returncode, "error": err.strip()[-300:] if proc.returncode else None}
        st = run.read_status()
        finished.update(state=st.get("state"), step=st.get("step"), temp_files_after_resume=temp_files(out))
        steps_logged = [r["step"] for r in run.read_metrics() if "fid" not in r]
        finished["metrics_lines_exact"] = steps_logged == list(range(5, final_steps + 1, 5))
        ref = Path(tmp) / "uninterrupted"
        t0 = time.time()
        p2 = spawn(train_args(ref, final_steps, args.checkpoint_every))
        _, err2 = p2.communicate(timeout=600)
        if p2.returncode != 0:
            raise RuntimeError(err2[-500:])
        a, b = flat_state(run.latest_path), flat_state(RunDir(ref).latest_path)
        import torch

        same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        finished.update(uninterrupted_seconds=round(time.time() - t0, 1), identical_to_uninterrupted=same,
                        tensors_compared=len(a))
    ok = [t for t in trials if t["ok"]]
    lost = [t["steps_lost"] for t in trials]
    summary = {"trials": len(trials), "intact": len(ok), "resumed": len(trials) - 1 + (finished["returncode"] == 0),
               "steps_lost_max": max(lost), "steps_lost_mean": round(sum(lost) / len(lost), 1),
               "checkpoint_every": args.checkpoint_every, "cut_metrics_lines": sum(t["cut_metrics_line"] for t in trials),
               "kills_leaving_temp_files": sum(bool(t["temp_files"]) for t in trials),
               "final": finished, "seconds": round(time.time() - t_start, 1)}
    print(json.dumps({"bench": "image_kill", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(),
                      "summary": summary, "trials": trials}, indent=1))
    good = (len(ok) == args.trials and finished["returncode"] == 0 and finished["identical_to_uninterrupted"]
            and finished["metrics_lines_exact"] and not finished["temp_files_after_resume"])
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
