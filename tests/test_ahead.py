"""The look-ahead memo: a value computed behind the page is the one get() returns, computed once; a request for
a value being computed waits for it; the latest wish replaces the pending ones; failures are get()'s to report."""

import threading

import pytest

from playground.ahead import Ahead


def counter():
    calls = []

    def make(key, value=None, gate: threading.Event | None = None):
        def compute():
            if gate is not None:
                assert gate.wait(10)
            calls.append(key)
            return value if value is not None else f"value of {key}"
        return compute
    return calls, make


def test_get_computes_once_and_keeps_the_newest_entries():
    calls, make = counter()
    a = Ahead(max_entries=2)
    assert a.get(1, make(1)) == "value of 1"
    assert a.get(1, make(1)) == "value of 1"
    assert calls == [1] and (a.hits, a.misses) == (1, 1)
    a.get(2, make(2))
    a.get(1, make(1))              # 1 is now the most recent: 2 is the one to go
    a.get(3, make(3))
    assert 1 in a and 3 in a and 2 not in a


def test_ahead_computes_in_the_background_and_get_takes_its_result():
    calls, make = counter()
    a = Ahead()
    a.ahead([(("test", 4), make(4)), (("test", 2), make(2))])
    assert a.idle(10)
    assert calls == [4, 2]                            # in the order asked
    assert a.get(("test", 4), make("foreground")) == "value of 4"
    assert calls == [4, 2] and a.computed_ahead == 2 and a.hits == 1


def test_a_request_for_a_running_job_waits_for_it():
    calls, make = counter()
    # patience far beyond the test: this gated guess reports no progress, and a loaded machine must not starve it
    a, gate, started = Ahead(patience=60), threading.Event(), threading.Event()
    job = make("background", "from behind", gate)
    a.ahead([("k", lambda: (started.set(), job())[1])])
    assert started.wait(10)           # the guess is running (its thread has the lowest priority: it can start late)
    got = []
    t = threading.Thread(target=lambda: got.append(a.get("k", make("foreground", "computed again"))))
    t.start()
    t.join(0.2)
    assert t.is_alive()               # waiting on the background job, not computing its own
    gate.set()
    t.join(10)
    assert got == ["from behind"] and calls == ["background"] and a.waits == 1


def test_the_latest_wish_replaces_jobs_not_started():
    calls, make = counter()
    a, gate, started = Ahead(), threading.Event(), threading.Event()
    first = make("first", gate=gate)
    a.ahead([("first", lambda: (started.set(), first())[1]), ("stale", make("stale"))])
    assert started.wait(10)
    a.ahead([("new", make("new"))])             # "first" is running; "stale" is dropped
    gate.set()
    assert a.idle(10)
    assert calls == ["first", "new"] and "stale" not in a


def test_a_failed_background_job_is_computed_again_and_raises_in_get():
    a = Ahead()

    def bad():
        raise ValueError("no such image")

    a.ahead([("k", bad)])
    assert a.idle(10) and "k" not in a
    with pytest.raises(ValueError, match="no such image"):
        a.get("k", bad)


def test_a_miss_stops_the_guesses_at_their_next_checkpoint():
    from playground.ahead import checkpoint

    calls, make = counter()
    a, started, release = Ahead(), threading.Event(), threading.Event()

    def long_guess():
        started.set()
        for _ in range(1000):              # chunks of work, each ending at a checkpoint
            release.wait(0.01)
            checkpoint()
        calls.append("guess finished")

    a.ahead([("guess", long_guess), ("next guess", make("next guess"))])
    assert started.wait(10)
    assert a.get("asked", make("asked")) == "value of asked"
    assert a.idle(10)
    assert calls == ["asked"] and a.cancelled == 1        # stopped, and the pending guess dropped
    assert "guess" not in a and "next guess" not in a
    checkpoint()                                          # outside a look-ahead job: nothing


def test_a_stopped_inspect_raises_inside_its_decoder_loop_and_keeps_no_grid():
    from pathlib import Path

    import torch

    from playground.ahead import Cancelled, _Job, _job
    from playground.vae import posterior
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.likelihood import GridCache

    path = Path(__file__).resolve().parents[1] / "pretrained/vae/digits-2d.pt"
    if not path.is_file():
        pytest.skip("pretrained VAEs missing: run make pretrained")
    model, _ = load_checkpoint(path)
    cache = GridCache(model)
    _job.current = _Job(background=True)
    _job.current.stop.set()
    try:
        with pytest.raises(Cancelled):
            posterior.inspect(model, torch.zeros(1, *model.shape), n=16, samples=64, ks=(1, 2), scan=16, cache=cache)
    finally:
        _job.current = None
    assert cache.nbytes() == 0                                  # the grid it was computing is not kept
    posterior.inspect(model, torch.zeros(1, *model.shape), n=16, samples=64, ks=(1, 2), scan=16, cache=cache)
    assert cache.nbytes() > 0                                   # and the thread's next job runs as usual


def test_guesses_wait_their_start_delay_and_a_request_meanwhile_drops_them():
    calls, make = counter()
    a = Ahead(start_delay=0.5)
    a.ahead([("guess", make("guess"))])
    assert not a.idle(0.2) and calls == []                  # not started within its delay
    assert a.get("asked", make("asked")) == "value of asked"
    assert a.idle(2) and calls == ["asked"]
    a.ahead([("guess", make("guess"))])
    assert a.idle(5) and calls == ["asked", "guess"]        # left alone, it runs once the delay is over


def test_only_stops_the_guesses_it_rejects_and_keeps_the_rest():
    from playground.ahead import checkpoint

    calls, make = counter()
    a, started = Ahead(), threading.Event()

    def long_guess():
        started.set()
        for _ in range(500):
            threading.Event().wait(0.01)
            checkpoint()
        calls.append(("img", 1))

    a.ahead([(("img", 1), long_guess), (("img", 2), make(("img", 2))), (("img", 3), make(("img", 3)))])
    assert started.wait(10)
    a.only(lambda key: key[1] == 3)              # the user moved to image 3: its guess stays
    assert a.idle(10)
    assert calls == [("img", 3)] and a.cancelled == 1 and ("img", 3) in a


def test_two_requests_for_one_key_compute_it_once_and_nothing_stops_a_request():
    calls, make = counter()
    a, gate = Ahead(), threading.Event()
    got = []
    first = threading.Thread(target=lambda: got.append(a.get("k", make("first", "from the first", gate))))
    first.start()
    second = threading.Thread(target=lambda: got.append(a.get("k", make("second", "computed again"))))
    threading.Event().wait(0.1)
    second.start()
    second.join(0.2)
    assert second.is_alive()                 # waiting on the first request, not computing its own
    a.only(lambda key: False)                # stops guesses only: the first request goes on
    gate.set()
    first.join(10), second.join(10)
    assert got == ["from the first", "from the first"] and calls == ["first"]
    assert (a.misses, a.waits) == (1, 1)


def test_a_starved_guess_is_stopped_and_the_request_computes_it():
    from playground.ahead import checkpoint

    calls, make = counter()
    a, started, release = Ahead(patience=0.2), threading.Event(), threading.Event()

    def stuck_guess():                       # reaches no checkpoint until released, as if given no CPU
        started.set()
        assert release.wait(10)
        checkpoint()
        calls.append("guess finished")
        return "from behind"

    a.ahead([("k", stuck_guess)])
    assert started.wait(10)
    assert a.get("k", make("foreground", "from the request")) == "from the request"
    assert a.starved == 1 and calls == ["foreground"]
    release.set()
    assert a.idle(10)
    assert a.cancelled == 1 and a.get("k", make("again")) == "from the request"


def ticking(started: threading.Event, beats: int, every: float):
    """A guess that passes `beats` checkpoints `every` seconds apart, then returns "from behind"."""
    from playground.ahead import checkpoint

    def guess():
        started.set()
        for _ in range(beats):
            threading.Event().wait(every)
            checkpoint()
        return "from behind"
    return guess


def test_a_slow_guess_that_makes_progress_is_waited_for():
    calls, make = counter()
    a, started = Ahead(patience=0.5), threading.Event()
    a.ahead([("k", ticking(started, 15, 0.1))])             # 1.5 s in all (3 x patience), a checkpoint every 0.1 s
    assert started.wait(10)
    assert a.get("k", make("foreground")) == "from behind"
    assert (a.starved, a.waits) == (0, 1) and calls == []


def test_a_guess_a_request_waits_for_is_not_stopped_by_another_miss():
    calls, make = counter()
    a, started = Ahead(patience=2.0), threading.Event()
    a.ahead([("k", ticking(started, 30, 0.01))])
    assert started.wait(10)
    got = []
    waiter = threading.Thread(target=lambda: got.append(a.get("k", make("recomputed"))))
    waiter.start()
    threading.Event().wait(0.05)
    assert a.get("other", make("other")) == "value of other"      # a miss elsewhere: stops the guesses, not this
    waiter.join(10)
    assert got == ["from behind"] and a.cancelled == 0 and calls == ["other"]
