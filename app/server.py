"""Server entry point (`make app` runs `streamlit run app/server.py`): the Streamlit app of
`streamlit_app.py` as an `st.App`, plus the live-figure frame feed route (components/live_figure/feed.py)."""

import sys
from pathlib import Path

import streamlit as st
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).parent))  # the same `components` package the pages import

from components.live_figure import feed  # noqa: E402

feed.MOUNTED = True
app = st.App("streamlit_app.py", routes=[Route(feed.ROUTE, feed.endpoint)])
