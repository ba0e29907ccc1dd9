"""The run layer: atomic files, the state vocabulary, liveness, the writer lock, checkpoints, run directories."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from playground.errors import PlaygroundError
from playground.runs import states
from playground.runs.checkpoints import load_checkpoint, save_checkpoint, sha256_file
from playground.runs.files import append_jsonl, atomic_write_json, read_json, read_jsonl
from playground.runs.liveness import pid_alive, process_start, this_host
from playground.runs.lock import RunInUse, WriterLock, lock_owner
from playground.runs.root import runs_root
from playground.runs.rundir import RunDir, delete_run, list_runs


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_atomic_json_is_standard_json_and_leaves_no_temp_files(tmp_path):
    p = tmp_path / "s.json"
    atomic_write_json(p, {"a": float("nan"), "b": float("inf"), "c": 1.5})
    assert json.loads(p.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard token {c}")) == \
        {"a": None, "b": None, "c": 1.5}
    assert [q.name for q in tmp_path.iterdir()] == ["s.json"]
    assert oct(p.stat().st_mode & 0o777) == "0o644"
    (tmp_path / "big.json").write_text(" " * 200 + "{}")
    with pytest.raises(PlaygroundError, match="too big"):
        read_json(tmp_path / "big.json", max_bytes=100)


def test_jsonl_skips_a_line_cut_short_by_a_kill(tmp_path):
    p = tmp_path / "m.jsonl"
    append_jsonl(p, {"step": 1})
    append_jsonl(p, {"step": 2})
    with open(p, "a") as f:
        f.write('{"step": 3, "lo')
    assert read_jsonl(p) == [{"step": 1}, {"step": 2}]
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_one_state_vocabulary_reads_the_old_vae_words():
    assert states.normalise({"state": "done"})["state"] == "completed"
    assert states.normalise({"state": "evaluating"}) == {"state": "running", "phase": "evaluating"}
    assert states.normalise({"state": "starting"})["state"] == "queued"
    odd = states.normalise({"state": "weird"})
    assert odd["state"] == "failed" and "weird" in odd["error"]
    assert set(states.STATES) == {"queued", "running", "completed", "failed", "stopped"}


def test_liveness_is_host_aware_and_sees_reused_pids():
    me = os.getpid()
    assert pid_alive(me) is True and pid_alive(me, this_host()) is True
    assert pid_alive(me, "some-other-machine") is None           # cannot tell from here
    assert pid_alive(dead_pid()) is False and pid_alive(None) is False
    started = process_start(me)
    if started is not None:                                      # Linux: a reused pid has another start time
        assert pid_alive(me, started=started) is True
        assert pid_alive(me, started=started + 1) is False


def test_writer_lock_refuses_a_second_writer_naming_the_owner(tmp_path):
    with WriterLock(tmp_path):
        assert lock_owner(tmp_path)["pid"] == os.getpid()
        with pytest.raises(RunInUse, match=f"in use by pid {os.getpid()}@{this_host()}") as e:
            WriterLock(tmp_path).acquire()
        assert "\n" not in str(e.value)
    assert not (tmp_path / "LOCK").exists()                      # released: the file goes too
    WriterLock(tmp_path).acquire().release()


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    code = ("import sys, time; from playground.runs.lock import WriterLock; WriterLock(sys.argv[1]).acquire(); "
            "print('locked', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "locked"
        with pytest.raises(RunInUse, match=f"pid {p.pid}@"):
            WriterLock(tmp_path).acquire()
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    assert (tmp_path / "LOCK").exists() and lock_owner(tmp_path)["pid"] == p.pid   # the stale record stays...
    with WriterLock(tmp_path):                                                       # ...and does not block
        assert lock_owner(tmp_path)["pid"] == os.getpid()


def test_checkpoints_are_tagged_and_loaded_weights_only(tmp_path):
    p = save_checkpoint(tmp_path / "c" / "latest.pt", {"step": 3, "w": torch.ones(2)}, "playground.test/1")
    ck = load_checkpoint(p, "playground.test/1")
    assert ck["step"] == 3 and torch.equal(ck["w"], torch.ones(2)) and ck["format"] == "playground.test/1"
    with pytest.raises(PlaygroundError, match="not a thing written by this playground"):
        load_checkpoint(p, "playground.other/1", what="thing")
    load_checkpoint(p, "playground.test/1", sha256=sha256_file(p))
    with pytest.raises(PlaygroundError, match="hash check"):
        load_checkpoint(p, "playground.test/1", sha256="0" * 64)
    with pytest.raises(PlaygroundError, match="too big"):
        load_checkpoint(p, "playground.test/1", max_bytes=10)
    torch.save({"format": "playground.test/1", "evil": object()}, tmp_path / "evil.pt")
    with pytest.raises(PlaygroundError, match="not a trusted checkpoint"):
        load_checkpoint(tmp_path / "evil.pt", "playground.test/1")
    with pytest.raises(PlaygroundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "none.pt", "playground.test/1")


def test_run_directory_life_cycle(tmp_path):
    run = RunDir.create(tmp_path / "a", {"steps": 5, "dataset": "digits", "model": "dcgan"}, "images")
    assert run.lock.held and run.read_status()["state"] == "queued" and run.kind == "images"
    with pytest.raises(RunInUse):                               # the creator holds the lock
        RunDir.create(tmp_path / "a", {"steps": 5}, "images")
    run.release()
    again = RunDir.create(tmp_path / "a", {"steps": 6, "dataset": "digits"}, "images")   # a queued shell
    assert again.config()["steps"] == 6
    again.append_metrics({"step": 1})
    again.release()
    with pytest.raises(PlaygroundError, match="not empty"):
        RunDir.create(tmp_path / "a", {"steps": 6}, "images")
    # a running run whose process is gone reads as failed, resumable from step 0
    again.write_status(state="running", pid=dead_pid(), host=this_host())
    st = RunDir.open(tmp_path / "a").effective_status()
    assert st["state"] == "failed" and st["process_gone"] and "step 0" in st["error"]
    # queued with a launched process that died before taking the run over
    q = RunDir.create(tmp_path / "q", {"latent": 2, "dataset": "digits", "epochs": 3}, "vae")
    q.release()
    atomic_write_json(q.launch_path, {"pid": dead_pid(), "host": this_host()})
    q.output_path.write_text("Traceback\nModuleNotFoundError: No module named 'nope'\n")
    st = q.effective_status()
    assert st["state"] == "failed" and "ModuleNotFoundError" in st["error"]
    assert [r["name"] for r in list_runs(tmp_path, kind="vae")] == ["q"]
    assert {r["name"] for r in list_runs(tmp_path)} == {"a", "q"}
    (tmp_path / "not-a-run").mkdir()
    # a live run cannot be deleted
    live = RunDir.create(tmp_path / "live", {"steps": 1}, "images")
    live.write_status(state="running", pid=os.getpid(), host=this_host())
    live.release()
    with pytest.raises(PlaygroundError, match="stop it first"):
        delete_run(live.path)
    delete_run(tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_runs_root_is_one_environment_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_RUNS", raising=False)
    assert str(runs_root()) == "runs"
    monkeypatch.setenv("PLAYGROUND_RUNS", str(tmp_path))
    assert runs_root() == tmp_path
    RunDir.create(tmp_path / "r", {"steps": 1, "model": "dcgan", "dataset": "digits"}, "images").release()
    assert [r["name"] for r in list_runs()] == ["r"]


def test_old_vae_run_directories_still_read(tmp_path):
    d = tmp_path / "old"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"dataset": "digits", "latent": 2, "epochs": 3}))
    (d / "status.json").write_text(json.dumps({"state": "done", "epoch": 3, "pid": 1}))
    (d / "checkpoint.pt").write_bytes(b"x")
    run = RunDir.open(d)
    assert run.kind == "vae" and run.effective_status()["state"] == "completed"
    assert run.latest_path == d / "checkpoint.pt" and run.checkpoints() == ["latest"]
