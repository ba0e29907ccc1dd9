"""The generative-models playground engine: plain Python + PyTorch, never imports streamlit."""

__version__ = "0.1.0"
