"""The divergence lab's engine: exact divergences by quadrature, fitting with multi-start, the GAN link.

No streamlit here; `app/views/divergences.py` and `python -m playground divergence|fit` call the same functions.
"""
