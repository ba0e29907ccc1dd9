"""One page script per page, run by st.navigation in app/streamlit_app.py.

A package only so that the wheel ships them."""
