"""Values shared by the report tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

from dataclasses import dataclass

from core.data import MarketData

HOSTILE_NAME = '=HYPERLINK("x")'
GRID = {"trigger_up": (0.02, 0.03, 0.05), "trigger_down": (0.02, 0.04)}


@dataclass(frozen=True)
class Seeded:
    """What the store fixture saved."""

    url: str
    data: MarketData
    dataset_id: int
    run_id: int
    run_id_2: int
    study_id: int
