"""Server entry point (`make app` runs `streamlit run app/server.py`): the Streamlit app of
`streamlit_app.py` as an `st.App`, plus the live-figure frame feed route (components/live_figure/feed.py)."""

import streamlit as st
from starlette.routing import Route

from app.components.live_figure import feed

feed.MOUNTED = True
app = st.App("streamlit_app.py", routes=[Route(feed.ROUTE, feed.endpoint)])
