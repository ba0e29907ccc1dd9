"""The app is an importable package that writes nothing into its own source tree: Plotly.js is served from the
installed plotly package, pages import `app.components` without sys.path tricks."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

import app.components.live_figure as live

ROOT = Path(__file__).resolve().parents[1]


def source_files() -> set[Path]:
    return {p for p in (ROOT / "app").rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _page():
    from app.components.live_figure import live_figure

    live_figure({"a": {"data": [{"type": "scatter", "x": [0, 1], "y": [1, 0]}], "layout": {}}}, [["a"]], key="t")


def test_live_figure_writes_nothing_under_app_and_registers_plotly_from_its_package(monkeypatch):
    before = source_files()
    declared = []
    real = live.components.declare_component

    def record(name, path=None, url=None):
        declared.append((name, path))
        return real(name, path=path, url=url)

    monkeypatch.setattr(live.components, "declare_component", record)
    at = AppTest.from_function(_page).run()
    assert not at.exception
    assert source_files() == before                          # nothing copied next to the frontend
    assert (live.PLOTLY_COMPONENT, str(live.PLOTLY_JS)) in declared
    assert (live.PLOTLY_JS / "plotly.min.js").is_file() and not (live.FRONTEND / "plotly.min.js").exists()
    # the iframe page loads Plotly from that component's URL, named after this module
    html = (live.FRONTEND / "index.html").read_text()
    assert f'<script src="../{live.__name__}.{live.PLOTLY_COMPONENT}/plotly.min.js"></script>' in html


def test_no_sys_path_edits_or_e402_left_in_app_tests_and_bench():
    offenders = []
    for folder in ("app", "tests", "bench"):
        for p in (ROOT / folder).rglob("*.py"):
            text = p.read_text()
            if re.search(r"sys\.path\.(insert|append)", text) or "noqa: " + "E402" in text:
                offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []
