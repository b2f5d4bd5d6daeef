"""Volatility Balancing Lab: the Streamlit entry point (``streamlit run streamlit_app.py``).

This file only frames the app and routes between pages; each page is one function in ``pages/``.
"""

import streamlit as st

from app.store_access import guard_store_errors
from pages import audit, backtest, data, home
from pages.backtest import backtest_page
from pages.compare import compare_page
from pages.optimise import optimise_page
from pages.positions import positions_page
from pages.regimes import regimes_page
from pages.reports import reports_page
from pages.risk import risk_page
from pages.robustness import robustness_page
from pages.runs import runs_page
from pages.trade_analysis import trade_analysis_page

st.set_page_config(page_title="Volatility Balancing Lab", page_icon=":material/balance:", layout="wide")

# A url_path must never equal the name of a module in pages/: until st.navigation has run once in the process
# (a fresh server, every AppTest rerun) Streamlit treats pages/*.py as legacy page scripts and would run the
# module itself, which only defines functions, instead of this router. A hyphen cannot occur in a module name.
# Every page is wrapped so that a run-store failure (corrupt, read-only or full database) shows as an st.error box
# saying what to do, never as a traceback.
navigation = st.navigation(
    [
        st.Page(
            guard_store_errors(home.home_page),
            title="Home",
            icon=":material/home:",
            url_path=home.URL_PATH,
            default=True,
        ),
        st.Page(
            guard_store_errors(data.data_page), title="Data", icon=":material/database:", url_path=data.URL_PATH
        ),
        st.Page(
            guard_store_errors(backtest_page),
            title="Backtest",
            icon=":material/query_stats:",
            url_path=backtest.URL_PATH,
        ),
        st.Page(guard_store_errors(runs_page), title="Runs", icon=":material/history:", url_path="saved-runs"),
        st.Page(
            guard_store_errors(optimise_page),
            title="Optimise",
            icon=":material/tune:",
            url_path="optimisation-lab",
        ),
        st.Page(
            guard_store_errors(positions_page),
            title="Positions",
            icon=":material/account_balance:",
            url_path="my-positions",
        ),
        st.Page(
            guard_store_errors(robustness_page),
            title="Robustness",
            icon=":material/verified:",
            url_path="robustness-checks",
        ),
        st.Page(
            guard_store_errors(trade_analysis_page),
            title="Trade analysis",
            icon=":material/receipt_long:",
            url_path="trades",
        ),
        st.Page(guard_store_errors(risk_page), title="Risk", icon=":material/warning:", url_path="risk-report"),
        st.Page(
            guard_store_errors(regimes_page),
            title="Regimes",
            icon=":material/partly_cloudy_day:",
            url_path="market-regimes",
        ),
        st.Page(
            guard_store_errors(compare_page),
            title="Compare",
            icon=":material/compare_arrows:",
            url_path="compare-runs",
        ),
        st.Page(
            guard_store_errors(reports_page),
            title="Reports",
            icon=":material/download:",
            url_path="download-reports",
        ),
        st.Page(
            guard_store_errors(audit.audit_page),
            title="Audit log",
            icon=":material/fact_check:",
            url_path=audit.URL_PATH,
        ),
    ]
)
navigation.run()
