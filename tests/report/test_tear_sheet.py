"""The tear sheet (issue 16, item 1): its pure tables checked against independent computations (empyrical-reloaded
and plain numpy/pandas written from the definitions), then the run workbook and the run PDF opened back and compared
with those tables, section by section."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from datetime import date

import empyrical
import numpy as np
import openpyxl
import pandas as pd
import pytest
from report_helpers import Seeded

from core import StrategyConfig, simulate
from core.config_registry import CONFIG_FIELDS
from core.metric_registry import METRICS
from core.metrics import daily_equity, daily_risk_free
from core.report.assumptions import DISCLAIMER, assumptions
from core.report.context import DatasetMeta, RunReport
from core.report.excel_run import run_workbook, save_workbook
from core.report.excel_style import FORMATS, METRIC_FORMATS
from core.report.formats import format_value, setting_kind
from core.report.pdf import run_pdf
from core.report.run_tables import MONTHS, dividend_table
from core.report.tear_sheet import (
    ALL_STATISTICS,
    DISTRIBUTION_STATISTICS,
    NOT_RECOVERED,
    RELATIVE_STATISTICS,
    ROLLING_WINDOW,
    TearSheet,
    tear_sheet,
)
from core.risk_stats import daily_returns, relative_figures, return_distribution, rolling_at_period_ends
from core.trade_stats import pnl_distribution, sell_pnl
from storage import Store
from usecases.reports import run_report_from_store

K = 252
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


@pytest.fixture(scope="module")
def report(seeded: Seeded) -> RunReport:
    with Store(seeded.url) as store:
        return run_report_from_store(store, seeded.run_id)


@pytest.fixture(scope="module")
def sheet(report: RunReport) -> TearSheet:
    return tear_sheet(report)


@pytest.fixture(scope="module")
def book(report: RunReport) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(save_workbook(run_workbook(report)) or b""))


@pytest.fixture(scope="module")
def pdf_text(report: RunReport, tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils")
    path = tmp_path_factory.mktemp("tear-sheet") / "run.pdf"
    path.write_bytes(run_pdf(report) or b"")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _returns(report: RunReport) -> tuple[pd.Series, pd.Series]:
    cfg = report.result.config
    stock = daily_equity(report.result.benchmarks["buy_and_hold"], cfg.initial_capital, report.dataset.timezone)
    return daily_returns(report.result.daily_equity), daily_returns(stock)


def _same(cells: object, values: object) -> bool:
    """Workbook numbers equal the tables' to the 16 significant digits openpyxl writes (Excel shows 15)."""
    a, b = np.asarray(cells, dtype=float), np.asarray(values, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-15, atol=0, equal_nan=True))


def _squash(text: str) -> str:
    # pdftotext spreads table cells with spaces and may drop the thin space before "%"
    return re.sub(r"\s+", "", text)


# --- the pure tables against independent computations ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_relative_figures_match_empyrical(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 2000))
    bench = rng.normal(0.0005, 0.02, n)
    strat = 0.0002 + 0.5 * bench + rng.normal(0, 0.006, n)
    index = pd.bdate_range("2015-01-01", periods=n)
    rf = 0.02 * (seed % 2)
    fig = relative_figures(pd.Series(strat, index), pd.Series(bench, index), rf, K)
    rf_d = daily_risk_free(rf, K)
    alpha, beta = empyrical.alpha_beta(strat, bench, risk_free=rf_d, annualization=K)
    assert _close(fig.beta, beta) and _close(fig.alpha, alpha)
    # Morningstar's capture ratio is empyrical's with an annualisation factor of 1 (period="yearly")
    assert _close(fig.up_capture, empyrical.up_capture(strat, bench, period="yearly"))
    assert _close(fig.down_capture, empyrical.down_capture(strat, bench, period="yearly"))
    assert _close(fig.information_ratio, empyrical.excess_sharpe(strat, bench) * math.sqrt(K))
    active = strat - bench
    assert _close(fig.tracking_error, float(np.std(active, ddof=1)) * math.sqrt(K))
    assert _close(fig.correlation, float(np.corrcoef(strat, bench)[0, 1]))
    assert fig.n == n


def test_return_distribution_from_the_definitions() -> None:
    rng = np.random.default_rng(3)
    r = pd.Series(rng.standard_t(4, 1500) * 0.01)
    dist = return_distribution(r)
    x = r.to_numpy()
    for level, var_name, cvar_name in ((5, "var_95", "cvar_95"), (1, "var_99", "cvar_99")):
        rank = (len(x) - 1) * level / 100
        lo, frac = math.floor(rank), rank - math.floor(rank)
        s = np.sort(x)
        var = s[lo] + (s[lo + 1] - s[lo]) * frac  # the linearly interpolated percentile, by hand
        assert _close(getattr(dist, var_name), var)
        assert _close(getattr(dist, cvar_name), float(x[x <= var].mean()))
    m, sd = x.mean(), x.std(ddof=0)
    n = len(x)
    g1 = np.mean((x - m) ** 3) / sd**3
    assert _close(dist.skew, g1 * math.sqrt(n * (n - 1)) / (n - 2))  # adjusted Fisher-Pearson
    assert _close(dist.std, float(np.std(x, ddof=1))) and dist.n == n
    assert dist.worst == x.min() and dist.best == x.max()
    assert _close(dist.positive_share, float((x > 0).mean()))


def test_monthly_and_yearly_returns_from_month_end_values(report: RunReport, sheet: TearSheet) -> None:
    result, cfg = report.result, report.result.config

    def period_returns(equity: pd.Series, freq: str) -> pd.Series:
        ends = equity.groupby(equity.index.to_period(freq)).last()
        previous = np.r_[cfg.initial_capital, ends.to_numpy()[:-1]]
        return pd.Series(ends.to_numpy() / previous - 1.0, index=ends.index)

    monthly = period_returns(result.equity, "M")
    table = sheet.monthly.set_index("Year")
    for period, value in monthly.items():
        assert _close(table.at[period.year, MONTHS[period.month - 1]], value, 1e-12), period
    assert int(table[list(MONTHS)].notna().to_numpy().sum()) == len(monthly)
    yearly = sheet.yearly.set_index("Year")
    columns = {"strategy": "Strategy", "buy_and_hold": "Buy & hold", "static_mix": "Static mix"}
    for key, title in columns.items():
        series = result.equity if key == "strategy" else result.benchmarks[key]
        for period, value in period_returns(series, "Y").items():
            assert _close(yearly.at[period.year, title], value, 1e-12), (key, period)
    assert np.allclose(yearly["Excess vs buy & hold"], yearly["Strategy"] - yearly["Buy & hold"])
    assert np.allclose(table["Total"], yearly["Strategy"])


def test_drawdowns_peaks_troughs_and_recoveries(report: RunReport, sheet: TearSheet) -> None:
    daily = report.result.daily_equity
    values = daily.groupby(level=0).last()
    table = sheet.drawdowns
    assert len(table) == 5 and list(table["Rank"]) == [1, 2, 3, 4, 5]
    assert _close(table["Depth"].iloc[0], report.result.metrics["max_drawdown"])
    assert (np.diff(table["Depth"].to_numpy()) >= 0).all()  # deepest first
    for _, row in table.iterrows():
        peak, trough = values[row["Peak"]], values[row["Trough"]]
        assert _close(row["Depth"], trough / peak - 1.0)
        between = values[row["Peak"]:row["Trough"]]
        assert between.min() == trough and between.max() == peak
        if row["Recovery"] == NOT_RECOVERED:
            assert values[row["Peak"]:].iloc[1:].max() < peak
            assert row["Length (days)"] == (values.index[-1] - row["Peak"]).days
        else:
            assert values[row["Recovery"]] >= peak and values[row["Peak"]:row["Recovery"]].iloc[1:-1].max() < peak
            assert row["Length (days)"] == (row["Recovery"] - row["Peak"]).days


def test_rolling_values_at_year_ends(report: RunReport, sheet: TearSheet) -> None:
    strategy, stock = _returns(report)
    ends = sheet.rolling_ends.set_index("Date")
    year_ends = strategy.groupby(strategy.index.year).tail(1).index
    assert set(ends.index) <= {*year_ends, strategy.index[-1]} and strategy.index[-1] in ends.index
    for day in ends.index:
        window = strategy[:day].iloc[-ROLLING_WINDOW:].to_numpy()
        market = stock[:day].iloc[-ROLLING_WINDOW:].to_numpy()
        assert len(window) == ROLLING_WINDOW
        assert _close(ends.at[day, "Volatility"], float(np.std(window, ddof=1)) * math.sqrt(K))
        assert _close(ends.at[day, "Sharpe ratio"], float(window.mean() / np.std(window, ddof=1)) * math.sqrt(K))
        assert _close(ends.at[day, "Beta"], float(np.cov(window, market)[0, 1] / np.var(market, ddof=1)))
    quarterly = rolling_at_period_ends(strategy, stock, ROLLING_WINDOW, period="Q")
    assert len(quarterly) > len(ends)


def test_trade_pnl_distribution_from_the_sells(report: RunReport) -> None:
    trades = report.result.trades
    pnl = sell_pnl(trades)["pnl"].to_numpy()
    dist = pnl_distribution(trades)
    assert dist.n_sells == len(pnl) == report.result.metrics["n_sells"]
    assert _close(dist.win_rate, report.result.metrics["win_rate"])
    assert _close(dist.profit_factor, report.result.metrics["profit_factor"])
    assert _close(dist.total, float(pnl.sum())) and _close(dist.median, float(np.median(pnl)))
    assert _close(dist.p95, float(np.percentile(pnl, 95)))
    assert _close(dist.payoff_ratio, pnl[pnl > 0].mean() / abs(pnl[pnl < 0].mean()))


def test_hand_made_sells() -> None:
    # Buy 10 at 10 (fee 1), sell 4 at 12 (fee 0.5) -> +7.1, buy 2 at 9 (fee 0.2), sell 7 at 9 (fee 0.7) -> -6.65
    trades = pd.DataFrame({
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-10", "2024-03-04"]),
        "kind": ["initial", "trigger", "trigger", "rebalance"], "side": ["BUY", "SELL", "BUY", "SELL"],
        "qty": [10.0, 4.0, 2.0, 7.0], "price": [10.0, 12.0, 9.0, 9.0], "notional": [100.0, 48.0, 18.0, 63.0],
        "commission": [1.0, 0.5, 0.2, 0.7],
    })  # fmt: skip
    dist = pnl_distribution(trades)
    assert (dist.n_sells, dist.n_wins, dist.n_losses) == (2, 1, 1)
    assert dist.total == pytest.approx(0.45) and dist.payoff_ratio == pytest.approx(7.1 / 6.65)
    assert dist.best == pytest.approx(7.1) and dist.worst == pytest.approx(-6.65)
    empty = pnl_distribution(trades.iloc[:1])
    assert empty.n_sells == 0 and math.isnan(empty.mean) and math.isnan(empty.payoff_ratio)


# --- the workbook ------------------------------------------------------------------------------------------------


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _statistics(ws) -> dict[str, list]:
    rows = _rows(ws)
    return {r[0]: r for r in rows[1:] if r[0]}


def test_workbook_tear_sheet_sheets_equal_the_tables(book: openpyxl.Workbook, sheet: TearSheet) -> None:
    monthly = _rows(book["Monthly Returns"])
    assert monthly[0] == ["Year", *MONTHS, "Total"]
    expected = sheet.monthly.to_numpy(dtype=float)
    got = np.array([[np.nan if v is None else v for v in row] for row in monthly[1:]], dtype=float)
    assert _same(got, expected)
    assert book["Monthly Returns"]["B2"].number_format == "0.00%"

    yearly = _rows(book["Yearly Returns"])
    assert yearly[0] == list(sheet.yearly.columns)
    assert _same(yearly[1:], sheet.yearly.to_numpy(dtype=float))
    assert book["Yearly Returns"]["E2"].number_format == FORMATS["signed_pct"]

    drawdowns = _rows(book["Drawdowns"])
    assert drawdowns[0] == ["Rank", "Peak", "Trough", "Recovery", "Depth", "Length (days)"]
    for row, (_, want) in zip(drawdowns[1:], sheet.drawdowns.iterrows(), strict=True):
        assert row[1] == want["Peak"] and row[2] == want["Trough"] and _same(row[4], want["Depth"])
        assert row[3] == (NOT_RECOVERED if want["Recovery"] == NOT_RECOVERED else want["Recovery"])

    rolling = _rows(book["Rolling Risk"])
    assert rolling[0] == ["Date", "Volatility", "Sharpe ratio", "Beta"]
    assert _same([r[1:4] for r in rolling[1:len(sheet.rolling_ends) + 1]],
                 sheet.rolling_ends[["Volatility", "Sharpe ratio", "Beta"]].to_numpy())


def test_workbook_statistics_are_the_pure_figures_in_their_formats(book: openpyxl.Workbook, report: RunReport) -> None:
    strategy, stock = _returns(report)
    cfg = report.result.config
    fig = relative_figures(strategy, stock, cfg.risk_free_rate, cfg.periods_per_year)
    ws = book["Benchmark Stats"]
    stats = _statistics(ws)
    assert [c.value for c in ws[1]] == ["Statistic", "vs Buy & hold", "vs Static mix", "Definition"]
    for stat in RELATIVE_STATISTICS:
        assert stats[stat.label][1] == pytest.approx(getattr(fig, stat.name), rel=1e-15), stat.name
    alpha_row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "Alpha (annual)")
    assert alpha_row[1].number_format == METRIC_FORMATS["pct"]
    beta_row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "Beta")
    assert beta_row[1].number_format == METRIC_FORMATS["ratio"]

    dist = return_distribution(strategy)
    stats = _statistics(book["Distribution"])
    for stat in DISTRIBUTION_STATISTICS:
        assert stats[stat.label][1] == pytest.approx(getattr(dist, stat.name), rel=1e-15), stat.name
    assert stats["Daily VaR 95%"][1] == pytest.approx(report.result.metrics["var_95"], rel=1e-12)
    assert stats["Daily CVaR 95%"][1] == pytest.approx(report.result.metrics["cvar_95"], rel=1e-12)

    pnl = pnl_distribution(report.result.trades)
    stats = _statistics(book["Trade P&L"])
    assert stats["Sells"][1] == pnl.n_sells and stats["Realised P&L"][1] == pytest.approx(pnl.total, rel=1e-15)


def test_workbook_dividends_settings_definitions_assumptions(book: openpyxl.Workbook, report: RunReport) -> None:
    divs = _rows(book["Dividends"])
    assert divs[0][:7] == ["Ex date", "Pay date", "Amount per share", "Shares", "Gross", "Withheld", "Net"]
    booked = report.result.dividends
    assert len(divs) - 1 == len(booked) == 2
    for row, (_, want) in zip(divs[1:], booked.iterrows(), strict=True):
        assert row[0] == want["ex_date"] and row[1] == want["pay_date"]
        assert _same(row[4:7], [want["gross"], want["withholding"], want["net"]])
        assert math.isclose(row[5], row[4] * report.result.config.withholding_tax_rate)

    settings = book["Settings"]
    header = [c.value for c in settings[1]]
    assert header[:5] == ["Setting", "Value", "Unit", "Shown as", "Field"]
    rows = {r[4].value: r for r in settings.iter_rows(min_row=2)}
    assert list(rows) == [f.name for f in CONFIG_FIELDS]
    cfg = report.result.config
    assert rows["trigger_up"][1].value == cfg.trigger_up and rows["trigger_up"][1].number_format == "0.00%"
    assert rows["trigger_up"][2].value == "percent" and rows["slippage_bps"][2].value == "basis points"
    assert rows["commission_min"][2].value == "currency"
    assert rows["slippage_bps"][1].number_format == FORMATS[setting_kind("slippage_bps")]
    assert rows["max_trade_share"][1].value == "not set"

    definition_rows = _rows(book["Definitions"])[1:]
    definitions = {r[0]: r for r in definition_rows}
    assert len(definitions) == len(definition_rows) == len(METRICS) + len(ALL_STATISTICS)  # unique names
    assert {m.name for m in METRICS} | {s.key for s in ALL_STATISTICS} == set(definitions)
    assert definitions["daily.var_99"][1] == "Daily VaR 99%" and definitions["sells.mean"][1] == "Mean P&L per sell"
    assert definitions["n_trades"][5] == next(m.definition for m in METRICS if m.name == "n_trades")

    texts = {r[0]: r[1] for r in _rows(book["Assumptions"]) if r[0]}
    assert texts["Hypothetical results"] == DISCLAIMER
    assert "0.05 % of its notional, at least 0.00" in texts["Commissions"]
    assert "0 bps above the close" in texts["Fills"]
    assert "No tax on realised or unrealised gains" in texts["Taxes"]
    assert report.dataset.sha256 in texts["Data"]


def test_a_date_range_keeps_the_dated_rows_inside_it(report: RunReport) -> None:
    part = report.with_period(date(2009, 1, 1), date(2009, 12, 31))
    sheet = tear_sheet(part)
    assert sheet.monthly["Year"].tolist() == [2009] and sheet.yearly["Year"].tolist() == [2009]
    assert sheet.rolling_ends["Date"].dt.year.unique().tolist() == [2009]
    assert sheet.rolling.index.min() >= pd.Timestamp("2009-01-01")
    assert sheet.relative.equals(tear_sheet(report).relative)  # statistics: the whole run
    assert dividend_table(part).empty and len(dividend_table(report)) == 2
    assert any(a.topic == "Date range" for a in assumptions(part))


def test_a_short_run_without_sells_still_reports() -> None:
    index = pd.bdate_range("2024-01-02", periods=40, name="timestamp")
    prices = pd.DataFrame({"close": np.linspace(100, 104, 40)}, index=index)
    # no fee, so the rising price never leaves a peak; triggers no move reaches, so nothing is sold
    config = StrategyConfig(trigger_up=5.0, trigger_down=0.9, auto_rebalance=False, commission_rate=0.0)
    result = simulate(prices, config)
    report = RunReport(result, DatasetMeta(name="short", symbol="SHORT", sha256="0" * 64))
    sheet = tear_sheet(report)
    assert sheet.rolling.empty and sheet.rolling_ends.empty and sheet.drawdowns.empty
    stats = sheet.trade_pnl.set_index("key")["Value"]
    assert stats["n_sells"] == 0 and math.isnan(stats["mean"])
    book = openpyxl.load_workbook(io.BytesIO(save_workbook(run_workbook(report)) or b""))
    assert "fewer than 126 daily returns" in book["Rolling Risk"]["A1"].value
    assert "never fell" in book["Drawdowns"]["A1"].value
    assert (run_pdf(report) or b"").startswith(b"%PDF")


# --- the PDF ---------------------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_sections_and_values(pdf_text: str, sheet: TearSheet, report: RunReport) -> None:
    flat = _squash(pdf_text)
    for heading in ("Monthly returns", "Yearly returns against the benchmarks", "The 5 worst drawdowns",
                    f"Rolling risk ({ROLLING_WINDOW}-day window)", "Against the benchmarks",
                    "Distribution of daily returns", "Realised P&L of the sells", "Dividends", "Configuration",
                    "Tear-sheet statistics", "Assumptions and limitations"):  # fmt: skip
        assert heading in pdf_text, heading
    for _, row in sheet.monthly.iterrows():  # a whole year's line: year, its months, its total
        cells = [format_value("pct", row[m]) for m in MONTHS if not math.isnan(row[m])]
        assert _squash(f"{int(row['Year'])} {' '.join(cells)} {format_value('pct', row['Total'])}") in flat
    for _, row in sheet.yearly.iterrows():
        cells = [format_value("pct", row[c]) for c in ("Strategy", "Buy & hold", "Static mix")]
        assert _squash(f"{int(row['Year'])} {' '.join(cells)}") in flat
    for frame in (sheet.relative, sheet.distribution, sheet.trade_pnl):
        for _, row in frame.iterrows():
            values = [format_value(row["fmt"], row[c]) for c in frame.columns[1:-3]]
            assert _squash(f"{row['Statistic']} {' '.join(values)}") in flat, row["Statistic"]
    worst = sheet.drawdowns.iloc[0]
    assert _squash(f"1 {worst['Peak']:%Y-%m-%d} {worst['Trough']:%Y-%m-%d}") in flat
    assert _squash(format_value("pct", worst["Depth"])) in flat
    for _, row in sheet.rolling_ends.iterrows():
        assert _squash(f"{row['Date']:%Y-%m-%d} {format_value('pct', row['Volatility'])}") in flat
    for _, d in report.result.dividends.iterrows():
        money = " ".join(format_value("money", d[c]) for c in ("gross", "withholding", "net"))
        assert _squash(f"{d['ex_date']:%Y-%m-%d} {d['pay_date']:%Y-%m-%d}") in flat and _squash(money) in flat
    assert _squash("Slippage (bps) 0 bps basis points") in flat
    assert _squash("Sell trigger (%) 3 % percent 3 %") in flat
    assert "Hypothetical results" in pdf_text and _squash(DISCLAIMER) in flat
