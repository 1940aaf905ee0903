"""The scenario schema: frozen, typed pydantic models for every concept in DESIGN.md.

This module owns what a scenario *is* (fields, types, ranges, defaults, units, descriptions).
Reading YAML, overrides and error messages live in ``sim.scenario``; cross-references between
parties, streams and intermediaries are checked in ``sim.scenario`` too, where file lines are
known. Times are days from ``start_date``; fields typed ``Day`` also accept a calendar date.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Annotated, Any, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.dists import Dist, Exponential, Fixed

Id = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="lower-case identifier"),
]
Share = Annotated[float, Field(ge=0, le=1)]


def _to_day(value: Any, info: ValidationInfo) -> Any:
    """Accept a date (converted to days from start_date) or a number of days."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError as exc:
            if re.fullmatch(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*", value):
                raise ValueError(f"{value!r} is not a valid date ({exc})") from None
            return value  # let float validation produce the message
    if isinstance(value, dt.date):
        start = (info.context or {}).get("start_date")
        if start is None:
            raise ValueError("a date needs a valid start_date in the scenario")
        return float((value - start).days)
    if isinstance(value, bool):
        raise ValueError("expected a number of days or a date, got a boolean")
    return value


Day = Annotated[float, BeforeValidator(_to_day)]


def _bool_ok(ann: Any) -> bool:
    return ann is bool or any(_bool_ok(a) for a in get_args(ann))


def _numeric(ann: Any) -> bool:
    if ann in (int, float):
        return True
    return any(_numeric(a) for a in get_args(ann))


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, data: Any) -> Any:
        """YAML reads yes/no/on/off as booleans; never let one pass for a number."""
        if isinstance(data, dict):
            for name, f in cls.model_fields.items():
                key = f.alias or name
                v = data.get(key)
                if isinstance(v, bool) and _numeric(f.annotation) and not _bool_ok(f.annotation):
                    data = {**data, key: "true" if v else "false"}
        return data


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
    """A concession strategy from the registry (``sim.strategies``), with its parameters."""

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
        from sim.strategies import STRATEGIES

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


class PreferenceDrift(Model):
    """A prisoner's wish may change once: after an exponential time, to a new draw from `to`."""

    rate: float = Field(0.0, ge=0, le=1, description="per day")
    to: Preferences = Field(default_factory=lambda: {"return": 1.0}, description=PREFERENCES_HELP)


class Holding(Model):
    """Prisoners already held at the start."""

    holder: Id = Field(description="party holding them")
    nationality: Id = Field(description="their nationality (a party id)")
    count: int = Field(ge=0, le=2_000_000, description="how many")
    captured: Day = Field(0.0, description="day (or date) they were captured; may be before start")
    wounded_share: Share = Field(0.0, description="share wounded")
    categories: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"soldier": 1.0}, description="category -> share (sum 1)"
    )
    preferences: Preferences = Field(
        default_factory=lambda: {"return": 1.0}, description=PREFERENCES_HELP
    )
    preference_drift: PreferenceDrift | None = Field(
        None, description="wish change of these prisoners (default: captivity.preference_drift)"
    )


class RatePhase(Model):
    """From day `from` on, capture incidents happen at `per_day` (until the next phase)."""

    from_: Day = Field(0.0, alias="from", description="day (or date) the phase starts")
    per_day: float = Field(ge=0, le=10_000, description="capture incidents per day")


def _rate_shorthand(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [{"from": 0.0, "per_day": value}]
    return value


class CaptureStream(Model):
    """Captures of one nationality by one captor: Poisson incidents, each a batch of people."""

    id: Id = Field(description="identifier (names its random stream)")
    captor: Id = Field(description="party that captures")
    nationality: Id = Field(description="nationality of the captured (a party id)")
    rate: Annotated[list[RatePhase], BeforeValidator(_rate_shorthand)] = Field(
        min_length=1, description="incidents per day: a number, or phases [{from, per_day}]"
    )
    batch: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=1.0),
        description="people per incident (rounded, at least 1)",
    )
    wounded_share: Share = Field(0.0, description="share of captives who are wounded")
    categories: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"soldier": 1.0}, description="category -> share (sum 1)"
    )
    self_destruct: Share = Field(
        0.0, description="share of would-be captives who die rather than be captured"
    )
    preferences: Preferences = Field(
        default_factory=lambda: {"return": 1.0}, description=PREFERENCES_HELP
    )
    preference_drift: PreferenceDrift | None = Field(
        None, description="wish change of these prisoners (default: captivity.preference_drift)"
    )

    @field_validator("rate")
    @classmethod
    def _increasing(cls, v: list[RatePhase]) -> list[RatePhase]:
        for a, b in itertools.pairwise(v):
            if b.from_ <= a.from_:
                raise ValueError("rate phases must be in increasing order of `from`")
        return v


class DeathHazard(Model):
    """Daily probability-rate of death in captivity."""

    healthy: float = Field(0.0, ge=0, le=1, description="per day, not wounded")
    wounded: float = Field(0.0, ge=0, le=1, description="per day, wounded")


class Captivity(Model):
    """What happens to prisoners while held."""

    death_hazard: DeathHazard = Field(default_factory=DeathHazard, description="deaths")
    severe_share: Share = Field(
        0.0, description="share of wounded who are severely wounded (humanitarian release)"
    )
    humanitarian_delay: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=30.0),
        description="days from capture to humanitarian release, where the holder does that",
    )
    asylum_delay: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=60.0),
        description="days from asking to stay to being resettled by a holder that offers asylum",
    )
    preference_drift: PreferenceDrift = Field(
        default_factory=PreferenceDrift, description="change of wishes"
    )


class Intermediary(Model):
    """A third party that relays offers between parties that do not talk directly."""

    id: Id = Field(description="identifier")
    name: str | None = Field(None, description="display name")
    connects: list[Id] = Field(min_length=2, description="parties it can carry talks between")
    delay: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=2.0),
        description="days to relay one offer",
    )
    reliability: float = Field(
        1.0, gt=0, le=1, description="probability a relayed offer arrives (else the round is lost)"
    )
    capacity: int = Field(1, ge=1, le=1000, description="talks it can carry at once")
    guarantee: bool = Field(False, description="guarantees execution (collapse less likely)")


class Negotiation(Model):
    """Protocol settings shared by all talks."""

    direct_delay: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=2.0),
        description="days for an offer over a direct channel",
    )
    breakdown_risk: float = Field(
        0.02, ge=0, lt=1, description="probability talks break down after a rejected round"
    )
    max_rounds: int = Field(60, ge=1, le=10_000, description="rounds before talks are abandoned")
    cooldown: Dist = Field(
        default_factory=lambda: Exponential(dist="exponential", mean_=30.0),
        description="days before the same parties open talks again",
    )
    preparation: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=7.0),
        description="days from agreement to handover",
    )
    collapse: Share = Field(
        0.05, description="probability an agreed deal collapses before handover"
    )
    guarantee_factor: Share = Field(
        0.25, description="collapse probability is multiplied by this under a guarantor"
    )
    max_deal_size: Dist | None = Field(
        None, description="largest number of prisoners in one transfer line of a deal (per talks)"
    )
    max_parties: int = Field(3, ge=2, le=6, description="largest number of parties in one talks")
    frozen: bool = Field(False, description="no new talks open while true (use in the timeline)")


class TimelineChange(Model):
    """At day `at`, set scenario values (same dotted paths as `--set`)."""

    at: Day = Field(description="day (or date) of the change")
    set: dict[str, Any] = Field(min_length=1, description="dotted path -> new value")
    note: str = Field("", description="what happened (shown in traces)")


class Scenario(Model):
    """One world: parties, prisoners, captures, captivity, intermediaries, protocol, timeline."""

    name: str = Field(min_length=1, description="scenario name")
    description: str = Field("", description="what it models")
    start_date: dt.date = Field(description="calendar date of day 0")
    horizon: Day = Field(gt=0, le=36_500, description="days simulated (or an end date)")
    seed: int = Field(1, ge=0, description="default random seed")
    replications: int = Field(100, ge=1, le=10_000_000, description="default replications")
    parties: list[Party] = Field(min_length=2, description="the parties (at least two)")
    holdings: list[Holding] = Field(default_factory=list, description="prisoners held at start")
    capture_streams: list[CaptureStream] = Field(default_factory=list, description="captures")
    captivity: Captivity = Field(default_factory=Captivity, description="captivity")
    intermediaries: list[Intermediary] = Field(default_factory=list, description="intermediaries")
    negotiation: Negotiation = Field(default_factory=Negotiation, description="protocol")
    timeline: list[TimelineChange] = Field(default_factory=list, description="dated changes")

    _phases: list[tuple[float, Scenario]] | None = PrivateAttr(default=None)

    def party(self, pid: str) -> Party:
        for p in self.parties:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def intermediary(self, iid: str) -> Intermediary:
        for i in self.intermediaries:
            if i.id == iid:
                return i
        raise KeyError(iid)

    @property
    def party_ids(self) -> list[str]:
        return [p.id for p in self.parties]

    def date_of(self, day: float) -> dt.date:
        return self.start_date + dt.timedelta(days=int(day // 1))
