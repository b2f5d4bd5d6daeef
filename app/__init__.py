"""The Streamlit app: shared UI pieces (session state, configuration form, dataset picker, widgets, navigation).

Each page is one module in ``app/views/``; ``streamlit_app.py`` builds the menu from :mod:`app.navigation`. Figures
come from the pure Plotly builders in ``core.figures*``, data and the store from the use cases (``usecases``).
"""
