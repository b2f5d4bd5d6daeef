"""Every chart's server-side PNG/SVG download: rendered by kaleido only when asked for, and audited."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import plotly.graph_objects as go

from app.widgets import _lazy_image
from storage import Store


def test_lazy_chart_images_render_real_files_and_write_the_audit_log():
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]), layout={"title": {"text": "A chart"}})
    with Store() as store:
        png = _lazy_image(fig, "png", store, "risk_monthly", "A chart")()
        svg = _lazy_image(fig, "svg", store, "risk_monthly", "A chart")()
        entries = store.list_audit(action="export", limit=5)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert ET.fromstring(svg).tag.endswith("svg")
    assert [(e.entity, e.details["format"], e.details["chart"]) for e in entries][:2] == [
        ("chart", "svg", "risk_monthly"),
        ("chart", "png", "risk_monthly"),
    ]
