"""The landing page links every page of the navigation, each with a line on what it is for."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_home_links_every_page_of_the_navigation():
    pages = set(re.findall(r'VIEWS / "(\w+)\.py"', (ROOT / "app/streamlit_app.py").read_text())) - {"home"}
    assert len(pages) >= 9
    at = AppTest.from_file(str(ROOT / "app/streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    links = at.get("page_link")
    linked = {Path(link.proto.page).stem for link in links}
    assert linked == pages
    assert len(at.caption) >= len(pages)                        # a line for each
