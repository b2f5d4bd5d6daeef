"""The assumptions and limitations of a backtest, written out for the run PDF and the run workbook.

A reader handed a report must see that its figures are hypothetical and what the simulation does and does not
model: fills, costs, dividends, taxes, data. The texts name the run's own settings (in their units, from the field
registry through :func:`core.report.formats.setting_text`), so the page says "0.05 % of the notional, at least
1.00" rather than a generic "commissions are modelled". The rules themselves are docs/strategy.md's.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.report.context import RunReport
from core.report.formats import setting_text

DISCLAIMER = (
    "Hypothetical results. Every figure in this report comes from a simulation of the strategy's rules on "
    "historical prices; no order was placed, filled or paid for. Simulated results have inherent limits: they are "
    "computed with hindsight on one price history, they do not reflect the effect of real markets on real orders, "
    "and past performance does not indicate future results. Nothing here is investment advice."
)


@dataclass(frozen=True)
class Assumption:
    """One assumption or limitation: a short topic and the sentence(s) that state it for this run."""

    topic: str
    text: str


def _s(report: RunReport, name: str) -> str:
    return setting_text(name, getattr(report.result.config, name))


def assumptions(report: RunReport) -> list[Assumption]:
    """What the simulation of ``report`` assumed and what it leaves out, in reading order; the first entry is
    the hypothetical-results disclaimer."""
    cfg = report.result.config
    ds = report.dataset
    whole = "fractional shares" if cfg.fractional_shares else "whole shares only (orders rounded toward zero)"
    cap = ("no per-order cap" if cfg.max_trade_share is None
           else f"at most {_s(report, 'max_trade_share')} of the account")
    hours = (
        "bars outside 09:30-16:00 Monday to Friday are evaluated too"
        if cfg.allow_after_hours
        else "on intraday data only bars inside 09:30-16:00 Monday to Friday (exchange time) are evaluated"
    )
    items = [
        Assumption("Hypothetical results", DISCLAIMER),
        Assumption(
            "Fills",
            "Every order is decided and filled at the close of the bar that triggered it, the price the rule "
            "tested: the simulation knows the close when it decides. Buys fill "
            f"{_s(report, 'slippage_bps')} above the close and sells the same below it (slippage); the initial "
            "purchase fills at the close without slippage. Every order fills in full: no market impact, no partial "
            "fills, no volume or liquidity limit, no bid-ask spread beyond the slippage.",
        ),
        Assumption(
            "Commissions",
            f"Each order pays {_s(report, 'commission_rate')} of its notional, at least "
            f"{_s(report, 'commission_min')} (minimum commission); the initial purchase pays one too. No exchange, "
            "custody, financing or currency-conversion fees.",
        ),
        Assumption(
            "Order rules",
            f"Orders below a notional of {_s(report, 'min_notional')} are skipped; at most "
            f"{_s(report, 'max_orders_per_day')} orders a day; {cap}; {whole}; {hours}. No short selling and no "
            "borrowing: cash and shares never go below zero.",
        ),
        Assumption(
            "Dividends and withholding",
            "A dividend is booked at its ex-date on the shares held before that bar's trade and lowers the anchor "
            f"by its amount; {_s(report, 'withholding_tax_rate')} is withheld, and the net amount counts in the "
            "account value as a receivable until the pay date, when it becomes cash (pay date = ex-date + "
            f"{_s(report, 'dividend_pay_lag_days')} where the data gives none). Dividends are not reinvested "
            "except through the strategy's own buys. Both benchmarks receive the same dividends, net, on their "
            "own shares.",
        ),
        Assumption(
            "Taxes",
            "No tax on realised or unrealised gains, and no reclaim of withheld dividend tax: the figures are "
            "before taxes other than the dividend withholding.",
        ),
        Assumption(
            "Cash",
            "Cash earns no interest and costs nothing to hold. The risk-free rate "
            f"({_s(report, 'risk_free_rate')} a year) is used only in the Sharpe, Sortino and alpha figures.",
        ),
        Assumption(
            "Benchmarks",
            "Buy-and-hold puts the whole initial capital into the stock at the first close, with the same "
            "commission as the initial purchase, and holds it. The static mix is the strategy's own starting split "
            f"({_s(report, 'initial_stock_share')} in stock), never traded.",
        ),
        Assumption(
            "Data",
            f"Prices from {ds.source} ({ds.name}, {ds.symbol}, {ds.interval} bars, price basis {ds.price_basis}, "
            f"time zone {ds.timezone}; SHA-256 {ds.sha256}). Prices should be split-adjusted and not "
            "dividend-adjusted, since dividends are modelled as cash; adjusted prices with dividends count them "
            "twice. The data is used as given: errors, gaps and survivorship in it carry into the results. There is "
            "no holiday calendar: a day without bars does not exist for the simulation.",
        ),
        Assumption(
            "Figures",
            "Return and risk figures use one value per exchange-local date (the last bar's), the initial capital "
            f"first, simple returns and {_s(report, 'periods_per_year')} periods a year. VaR and CVaR are "
            "historical (percentiles of the run's own daily returns), not forecasts. Alpha, beta and the capture "
            "ratios are measured against the stock itself (buy-and-hold), not a market index.",
        ),
    ]
    if report.start is not None or report.end is not None:
        items.append(
            Assumption(
                "Date range",
                f"The report lists rows from {report.start or 'the start'} to {report.end or 'the end'}; the "
                "metrics and the tear-sheet statistics describe the whole run.",
            )
        )
    return items
