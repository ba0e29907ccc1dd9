"""The live figure's own scripts in a real browser, without a server: figures with equal units keep the ranges
they are given when a new frame changes the aspect (Plotly.react alone widens them to the old plot area), and
keep their DOM (the canvas overlay, the event handlers) while doing so."""

import shutil
from pathlib import Path

import pytest

from app.components.live_figure import PLOTLY_COMPONENT, PLOTLY_JS
from app.headless import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

FRONTEND = Path(__file__).resolve().parents[1] / "app" / "components" / "live_figure" / "frontend"


@pytest.fixture
def figure_page(tmp_path, chromium):
    """index.html and its scripts, minus main.js (the Streamlit wiring), with plotly.min.js where it loads it."""
    shutil.copytree(FRONTEND, tmp_path / "frontend")
    html = (tmp_path / "frontend" / "index.html").read_text()
    (tmp_path / "frontend" / "index.html").write_text(html.replace('<script src="main.js"></script>', ""))
    lib = tmp_path / f"app.components.live_figure.{PLOTLY_COMPONENT}"
    lib.mkdir()
    shutil.copy(PLOTLY_JS / "plotly.min.js", lib)
    with browser_page(width=900, height=700) as page:
        page.goto((tmp_path / "frontend" / "index.html").as_uri())
        page.wait_for_function("window.LF && window.LF.figures && window.Plotly")
        page.evaluate("LF.figures.layoutColumns([['field']], [1])")
        yield page


def _frame(page, n: int, x: tuple, y: tuple) -> dict:
    """Render one frame of an equal-units heatmap over x × y; returns the ranges Plotly drew."""
    return page.evaluate("""([n, x, y]) => {
        const fig = {data: [{type: 'heatmap', z: [[0, 1], [2, 3]], x0: x[0], dx: x[1] - x[0], y0: y[0],
                             dy: y[1] - y[0]}],
                     layout: {height: 400, uirevision: 'field',
                              xaxis: {range: x, constrain: 'domain'},
                              yaxis: {range: y, scaleanchor: 'x', scaleratio: 1, constrain: 'domain'}}};
        return LF.figures.render({field: fig}, n).then(() => {
            const f = LF.state.divs.field._fullLayout;
            return {x: f.xaxis.range.map(Number), y: f.yaxis.range.map(Number)};
        });
    }""", [n, list(x), list(y)])


def test_equal_unit_figures_keep_their_ranges_when_the_aspect_changes(figure_page):
    figure_page.evaluate("""() => { window.__relayouts = 0; const rl = Plotly.relayout;
        Plotly.relayout = function () { window.__relayouts += 1; return rl.apply(this, arguments); }; }""")
    frames = [((-4, 4), (-1, 1)), ((-1, 1), (-1, 1)), ((-1, 1), (-4, 4)), ((-3, 3), (-3, 3))]
    for n, (x, y) in enumerate(frames):
        drawn = _frame(figure_page, n, x, y)
        assert drawn["x"] == pytest.approx(list(x), abs=1e-6), (n, drawn)
        assert drawn["y"] == pytest.approx(list(y), abs=1e-6), (n, drawn)
    assert figure_page.evaluate("window.__relayouts") == 3         # ranges set again at each change
    figure_page.evaluate("LF.state.divs.field.querySelector('.main-svg').dataset.marker = 'kept'")
    for n in range(4, 7):                                           # the same ranges: a plain react
        _frame(figure_page, n, (-3, 3), (-3, 3))
    assert figure_page.evaluate("window.__relayouts") == 3
    _frame(figure_page, 7, (-1, 1), (-2, 2))                        # a change keeps the plot's own DOM
    assert figure_page.evaluate("LF.state.divs.field.querySelector('.main-svg').dataset.marker") == "kept"
