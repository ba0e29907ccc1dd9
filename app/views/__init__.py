"""One page script per page, run by st.navigation in app/streamlit_app.py (a package only so that the wheel ships them)."""
