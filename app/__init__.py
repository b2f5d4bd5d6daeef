"""Shared pieces of the Streamlit app: data loading with caching, KPI cards and Plotly figure builders.

``core.figures`` is pure Plotly (no Streamlit) so it can be tested and reused by reports; the pages live in
``pages/`` and the entry point is ``streamlit_app.py``.
"""
