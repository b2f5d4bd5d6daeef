"""Request bodies. The configuration model is generated from the configuration registry.

:data:`ConfigModel` is built with ``pydantic.create_model`` from :data:`core.config_registry.CONFIG_FIELDS`: one
field per registry entry with its type (from the kind), default, label (``title``) and help (``description``), and
the unit and valid range in the JSON schema. A field added to the registry therefore appears in the API, its
OpenAPI schema and its validation without touching this package. Pydantic checks only the *types*; the values are
checked by :class:`core.config.StrategyConfig` itself (the ranges and the cross-field rules), whose
``ConfigError`` the API reports as a 422 problem naming the field and its range.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, Strict, create_model

from core.bars import DEFAULT_TIMEZONE
from core.config import StrategyConfig
from core.config_registry import CONFIG_FIELDS, RENAMED_FIELDS, ConfigField
from core.portfolio.rules import PORTFOLIO_FIELDS
from usecases.store import POSITION_STATUSES

StrictFloat = Annotated[float, Strict()]  # accepts JSON numbers (integers too), never "0.03" or true
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]


def _annotation(field: ConfigField) -> Any:
    if field.kind == "float":
        return StrictFloat
    if field.kind == "int":
        return StrictInt
    if field.kind == "bool":
        return StrictBool
    if field.kind == "choice":
        return Literal[field.choices]  # type: ignore[valid-type]
    return StrictFloat | None  # optfloat


def _field_info(field: ConfigField) -> Any:
    extra: dict[str, Any] = {"unit": field.unit, "kind": field.kind, "group": field.group}
    if field.numeric:
        extra["valid_range"] = field.bounds.text()
    earlier = [old for old, new in RENAMED_FIELDS.items() if new == field.name]
    alias = AliasChoices(field.name, *earlier) if earlier else None  # earlier names still read (core.config_registry)
    return Field(field.default, title=field.label, description=field.help, json_schema_extra=extra,
                 validation_alias=alias)


def build_config_model(
    fields: tuple[ConfigField, ...] = CONFIG_FIELDS,
    name: str = "StrategyConfigModel",
    doc: str = "A strategy configuration; every field optional (the registry's default). Rates are fractions.",
) -> type[BaseModel]:
    """A pydantic model with one field per registry entry (:data:`CONFIG_FIELDS` by default; unknown keys are
    refused)."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__=doc,
        **{f.name: (_annotation(f), _field_info(f)) for f in fields},
    )


ConfigModel = build_config_model()
PortfolioRulesModel = build_config_model(
    PORTFOLIO_FIELDS, "PortfolioRulesModel",
    "A portfolio's own rules (docs/strategy.md §12); every field optional (the registry's default).",
)


class PortfolioCellIn(BaseModel):
    """One cell of a portfolio: a stored dataset, its weight and its configuration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200, description="the cell's name (default: the dataset's symbol)")
    dataset_id: StrictInt = Field(..., description="a stored dataset's id (GET /v1/datasets)")
    weight: StrictFloat = Field(..., description="the cell's share of the portfolio capital, a fraction in (0, 1]")
    config: ConfigModel | None = None  # type: ignore[valid-type]


class PortfolioRequest(BaseModel):
    """``POST /v1/portfolios``: backtest a portfolio of cells (and store it)."""

    model_config = ConfigDict(extra="forbid")

    rules: PortfolioRulesModel | None = None  # type: ignore[valid-type]
    cells: list[PortfolioCellIn] = Field(..., min_length=1, max_length=50)
    save: bool = Field(False, description="store the portfolio; the response gives its id")
    name: str = Field("", max_length=200)
    notes: str = ""
    include_equity: bool = Field(False, description="add the daily equity and benchmarks")


def to_config(model: BaseModel | None) -> StrategyConfig:
    """The validated :class:`StrategyConfig` (``ConfigError`` naming the field and its range otherwise)."""
    if model is None:
        return StrategyConfig()
    return StrategyConfig.from_dict(model.model_dump())


DatasetRef = Annotated[
    int | str,
    Field(description="a stored dataset's id (GET /v1/datasets) or a bundled sample's key (GOOG, MSFT, SP500)",
          examples=["GOOG", 1]),
]
RangeSpec = Annotated[
    str | list[Any] | dict[str, Any],
    Field(description='"min:max:step", a list of values, or "bool" (both booleans)',
          examples=["0.01:0.08:0.005", ["proportional", "original"], "bool"]),
]


class StudyCreate(BaseModel):
    """``POST /v1/optimization/configs``: a study over a dataset."""

    model_config = ConfigDict(extra="forbid")

    dataset: DatasetRef = "GOOG"
    start: date | None = Field(None, description="first date (inclusive) of the period searched")
    end: date | None = Field(None, description="last date (inclusive)")
    search_space: dict[str, RangeSpec] = Field(
        ..., description="{parameter: range}; parameters are configuration fields (GET parameter-types)",
        examples=[{"trigger_up": "0.02:0.06:0.01", "sizing": ["proportional", "original"]}],
    )
    method: Literal["grid", "random", "bayes"] = "grid"
    n_trials: int | None = Field(None, ge=1, description="trials for random and bayes")
    seed: int | None = 0
    objective: str = Field("sharpe", description="metric optimised in its natural direction")
    score: dict[str, float] | None = Field(None, description="weighted score {metric: weight} instead of objective")
    penalty: float = Field(1.0, ge=0, description="score penalty per violated constraint")
    constraints: list[str] = Field(default_factory=list, examples=[["max_drawdown>=-0.3"]])
    base_config: ConfigModel | None = Field(None, description="the configuration the searched fields vary from")  # type: ignore[valid-type]
    name: str = Field("", max_length=200)
    max_grid: int | None = Field(None, ge=1, description="refuse larger grids (default 500,000)")


class BacktestRequest(BaseModel):
    """``POST /v1/backtests``: one configuration on a stored or bundled dataset."""

    model_config = ConfigDict(extra="forbid")

    dataset: DatasetRef = "GOOG"
    start: date | None = None
    end: date | None = None
    config: ConfigModel | None = None  # type: ignore[valid-type]
    include_timeline: bool = Field(False, description="add one row per bar (anchor, triggers, shares, cash, ...)")
    include_trades: bool = True
    save: bool = Field(False, description="store the dataset and the run; the response gives the run id")
    name: str = Field("", max_length=200)
    tags: list[str] = Field(default_factory=list)
    notes: str = ""


class EvaluateRequest(BaseModel):
    """``POST /v1/positions/{id}/evaluate``: the advice at a price."""

    model_config = ConfigDict(extra="forbid")

    price: float = Field(..., gt=0)
    at: str | None = Field(None, description="time of the price, exchange-local (default: now)",
                           examples=["2024-01-03 11:00"])


class FillRequest(BaseModel):
    """``POST /v1/positions/{id}/fills``: an execution as it happened."""

    model_config = ConfigDict(extra="forbid")

    side: Literal["BUY", "SELL", "buy", "sell"]
    qty: float = Field(..., gt=0)
    price: float = Field(..., gt=0)
    commission: float = Field(0.0, ge=0)
    at: str | None = Field(None, description="time of the fill, exchange-local (default: now)")
    order_id: int | None = None


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder name such as "America"
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as America/New_York") from None
    return name


TimeZone = Annotated[str, Field(min_length=1, max_length=64, description="IANA time zone of the exchange",
                                examples=["America/New_York"]), AfterValidator(_known_timezone)]


class PositionCreate(BaseModel):
    """``POST /v1/positions``: a position held for real, opened with what is held or bought at ``price``."""

    model_config = ConfigDict(extra="forbid")

    ticker: str = Field(..., min_length=1, max_length=40, examples=["GOOG"])
    name: str = Field("", max_length=200, description="default: the ticker")
    config: ConfigModel | None = Field(None, description="how the position trades (default: the registry's)")  # type: ignore[valid-type]
    shares: float | None = Field(None, ge=0, description="shares held (with cash and anchor: existing holdings)")
    cash: float | None = Field(None, ge=0, description="cash held")
    anchor: float | None = Field(None, gt=0, description="the last trade's price (default: price)")
    price: float | None = Field(None, gt=0, description="without holdings: fund with config.initial_capital and "
                                "buy at this price like the backtest's first bar")
    at: str | None = Field(None, description="time of that opening price, exchange-local (default: now)")
    timezone: TimeZone = DEFAULT_TIMEZONE


class PositionStatusRequest(BaseModel):
    """``POST /v1/positions/{id}/status``: pause, close or re-activate (closed positions accept no changes)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal[POSITION_STATUSES]  # type: ignore[valid-type]


class CashFlowRequest(BaseModel):
    """``POST /v1/positions/{id}/cash-flows``: a deposit or a withdrawal."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["deposit", "withdrawal"]
    amount: float = Field(..., gt=0, description="the amount, positive (the type gives the direction)")
    note: str = Field("", max_length=2000)


class DividendRequest(BaseModel):
    """``POST /v1/positions/{id}/dividends``: an ex-dividend, booked as the simulator does."""

    model_config = ConfigDict(extra="forbid")

    ex_date: date
    amount: float = Field(..., gt=0, description="gross dividend per share")
    pay_date: date | None = Field(None, description="default: ex_date + config.dividend_pay_lag_days")
