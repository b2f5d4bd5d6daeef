from core.analysis import METRIC_DIRECTION, direction, oriented
from core.engine import METRIC_NAMES


def test_every_metric_has_a_direction():
    assert set(METRIC_DIRECTION) == set(METRIC_NAMES)
    assert set(METRIC_DIRECTION.values()) <= {1, -1}


def test_natural_directions():
    for up in ("total_return", "sharpe", "max_drawdown", "var_95", "cvar_95", "calmar", "win_rate"):
        assert METRIC_DIRECTION[up] == 1
    for down in ("volatility", "turnover", "total_commission", "n_blocked", "max_drawdown_days", "n_trades"):
        assert METRIC_DIRECTION[down] == -1


def test_unknown_metric_is_maximised_and_oriented_flips_minimised():
    assert direction("my_score") == 1
    assert list(oriented([0.1, 0.2], "volatility")) == [-0.1, -0.2]
