"""Parties in the scenario schema: what a party values, the norms it holds to, its concession
strategy (by name from ``sim.scenario.strategies``) and its negotiating stance.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
)

from sim.scenario.dists import Dist, Exponential
from sim.scenario.fields import Id, Model, Share
from sim.scenario.strategies import STRATEGIES


class Values(Model):
    """What a party gains (positive) or loses from one prisoner changing hands, in its own units."""

    own: float = Field(1.0, description="value of one of its own nationals coming home")
    ally: float = Field(
        0.5, description="value of one national of an ally (see `allies`) coming home"
    )
    chip: float = Field(
        0.5, ge=0, description="value of keeping one enemy prisoner as a bargaining chip"
    )
    defector: float = Field(
        0.2, description="value of taking in one prisoner who asked for asylum with this party"
    )


class Norms(Model):
    """Exchange norms a party insists on, in the deals it offers and the deals it accepts."""

    one_for_one: bool = Field(False, description="it gives exactly as many as it gets back")
    all_for_all: bool = Field(False, description="only all-held-for-all-held deals")
    wounded_first: bool = Field(
        False, description="transfers it takes part in release wounded prisoners first"
    )


def _strategy_shorthand(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class StrategySpec(Model):
    """A concession strategy from the registry (``sim.scenario.strategies``), with parameters."""

    name: str = Field(
        "linear",
        description="boulware, linear, conceder, tit_for_tat, hardliner, rubinstein, attrition, …",
    )
    e: float | None = Field(
        None,
        gt=0,
        description="concession exponent of time-dependent strategies (e<1 Boulware, 1 linear, "
        ">1 Conceder); default from the strategy",
    )
    level: float | None = Field(
        None, ge=0, le=1, description="hardliner: the aspiration it holds to (default 1)"
    )
    cost: float | None = Field(
        None,
        gt=0,
        description="attrition: cost per day of holding out (default 1); it concedes at rate "
        "cost/prize",
    )
    prize: float | None = Field(
        None,
        gt=0,
        description="attrition: value of winning, in the units of `cost` (default 30: concedes "
        "after 30 days on average)",
    )

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(
                f"unknown strategy {v!r}; expected one of {', '.join(sorted(STRATEGIES))}"
            )
        return v


Strategy = Annotated[StrategySpec, BeforeValidator(_strategy_shorthand)]


class Party(Model):
    """A state or armed group: whom it values, how it negotiates, what it honours."""

    id: Id = Field(description="identifier; also the nationality of its people")
    name: str | None = Field(None, description="display name (default: the id)")
    allies: list[Id] = Field(
        default_factory=list, description="parties whose nationals it values at `values.ally`"
    )
    values: Values = Field(default_factory=Values, description="valuations (see Values)")
    category_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="multiplier on a prisoner's value by category (e.g. officer: 2); missing = 1",
    )
    wounded_weight: float = Field(1.0, ge=0, description="multiplier on a wounded prisoner's value")
    acknowledges: dict[str, bool] = Field(
        default_factory=dict,
        description="nationality -> whether it acknowledges that nationality's involvement; "
        "false refuses any deal naming it (default true)",
    )
    strategy: Strategy = Field(default_factory=StrategySpec, description="concession strategy")
    reservation: Share = Field(
        0.5, description="lowest normalised value (0..1) of a deal it will accept"
    )
    deadline: float = Field(
        180.0,
        gt=0,
        description="days of talks after which it walks away (T of the concession curve)",
    )
    initiative: Dist | None = Field(
        default_factory=lambda: Exponential(dist="exponential", mean_=30.0),
        description="days between its attempts to open talks; null = never takes the initiative",
    )
    norms: Norms = Field(default_factory=Norms, description="exchange norms it insists on")
    direct_channels: list[Id] = Field(
        default_factory=list, description="parties it talks to without an intermediary"
    )
    asylum: bool = Field(False, description="offers asylum to prisoners who ask for it")
    honours_preferences: bool = Field(
        True, description="as holder, never hands over a prisoner who refuses to go home"
    )
    humanitarian_release: bool = Field(
        False, description="as holder, releases severely wounded prisoners unilaterally"
    )
    discount: float = Field(
        1.0,
        gt=0,
        le=1,
        description="per-day discount factor: a deal reached t days into talks is worth "
        "discount^t times its value, and aspirations are on that scale (1 = no discounting)",
    )
    accepts_losses: bool = Field(
        False,
        description="accepts deals worth less to it than no deal (as in the textbook concession "
        "model, where any agreement beats none); false: never goes below the no-deal value",
    )


Preferences = dict[str, Annotated[float, Field(ge=0)]]
PREFERENCES_HELP = "share of prisoners by wish: return, stay, resettle:PARTY (shares sum to 1)"
