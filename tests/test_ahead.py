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
    a, gate = Ahead(), threading.Event()
    a.ahead([("k", make("background", "from behind", gate))])
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
