"""Small builders for the analysis tests: hand-made trial tables and short synthetic price frames."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_helpers import random_walk


@pytest.fixture
def walk() -> pd.DataFrame:
    return random_walk(260)
