"""Reusable UI pieces for the pages (Streamlit-side only)."""
