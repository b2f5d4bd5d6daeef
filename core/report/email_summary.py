"""The short summary that travels with a delivered report: a title, a few facts and the KPIs, as HTML and text.

Pure: labels and number formats come from the metric registry (``core.metric_table.format_metric``), so the
e-mail body shows a metric exactly as the app's KPI cards and the PDF do.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.metric_registry import METRICS_BY_NAME, SHOWN_KPI_CARD, shown_in
from core.metric_table import format_metric
from core.theme import COLORS, FONTS

DISCLAIMER = ("Hypothetical results of a simulated strategy on historical data; they are not a promise of future "
              "returns and include no taxes other than the modelled dividend withholding.")


@dataclass(frozen=True)
class ReportSummary:
    """What a delivery says about its report: ``title``, ``facts`` (label, value) and ``kpis`` (label, value)."""

    title: str
    facts: tuple[tuple[str, str], ...] = ()
    kpis: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """The summary as plain text (the message's text part)."""
        lines = [self.title, ""]
        lines += [f"{label}: {value}" for label, value in (*self.facts, *self.kpis)]
        lines += ["", DISCLAIMER]
        return "\n".join(lines)

    @property
    def html(self) -> str:
        """The summary as a small HTML document (the message's HTML part): inline styles, no scripts, no links."""
        def rows(pairs: Sequence[tuple[str, str]]) -> str:
            return "".join(
                f'<tr><td style="padding:2px 12px 2px 0;color:{COLORS.footer}">{html.escape(label)}</td>'
                f'<td style="padding:2px 0;text-align:right"><b>{html.escape(value)}</b></td></tr>'
                for label, value in pairs
            )

        kpis = f"<h3 style=\"margin:16px 0 4px\">Key figures</h3><table>{rows(self.kpis)}</table>" if self.kpis else ""
        return (
            f'<!DOCTYPE html><html><body style="font-family:{html.escape(FONTS.family)};'
            f'color:{COLORS.text}"><h2 style="margin:0 0 8px">{html.escape(self.title)}</h2>'
            f"<table>{rows(self.facts)}</table>{kpis}"
            f'<p style="color:{COLORS.footer};font-size:small">{html.escape(DISCLAIMER)}</p></body></html>'
        )


def kpi_pairs(metrics: Mapping[str, float], names: Sequence[str] | None = None) -> tuple[tuple[str, str], ...]:
    """``(label, formatted value)`` of the KPI-card metrics (or ``names``) present in ``metrics``."""
    chosen = names if names is not None else shown_in(SHOWN_KPI_CARD)
    return tuple(
        (METRICS_BY_NAME[name].label if name in METRICS_BY_NAME else name, format_metric(name, metrics[name]))
        for name in chosen
        if name in metrics
    )
