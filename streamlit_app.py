"""Volatility Balancing Lab: the Streamlit entry point (``streamlit run streamlit_app.py``).

This file only frames the app and routes between pages: the menu is :data:`app.navigation.PAGES`, each page one
function in ``app/views/``. Every page is wrapped so that a run-store failure (corrupt, read-only or full database)
shows as an st.error box saying what to do, never as a traceback.
"""

import streamlit as st

from app.navigation import build_pages
from app.store_access import guard_store_errors
from app.views.audit import audit_page
from app.views.backtest import backtest_page
from app.views.compare import compare_page
from app.views.data import data_page
from app.views.definitions import definitions_page
from app.views.home import home_page
from app.views.optimise import optimise_page
from app.views.portfolio import portfolio_page
from app.views.positions import positions_page
from app.views.regimes import regimes_page
from app.views.reports import reports_page
from app.views.risk import risk_page
from app.views.robustness import robustness_page
from app.views.runs import runs_page
from app.views.schedules import schedules_page
from app.views.trade_analysis import trade_analysis_page
from usecases.settings import SettingsError, load_settings

st.set_page_config(page_title="Volatility Balancing Lab", page_icon=":material/balance:", layout="wide")
try:
    load_settings("app")  # .env, validation and the profile's rules (VBL_ENV=prod refuses the default store)
except SettingsError as exc:
    st.error(f"**The app cannot start with these settings.** {exc}", icon=":material/error:")
    st.stop()

VIEWS = {
    "home": home_page,
    "data": data_page,
    "backtest": backtest_page,
    "runs": runs_page,
    "portfolio": portfolio_page,
    "optimise": optimise_page,
    "positions": positions_page,
    "robustness": robustness_page,
    "trade_analysis": trade_analysis_page,
    "risk": risk_page,
    "regimes": regimes_page,
    "compare": compare_page,
    "reports": reports_page,
    "schedules": schedules_page,
    "audit": audit_page,
    "definitions": definitions_page,
}
st.navigation(build_pages(VIEWS, guard_store_errors)).run()
