"""The Streamlit UI: `streamlit_app.py` (pages and navigation), `server.py`, `views/` and `components/`."""
