"""The scenario schema: frozen, typed pydantic models for every concept in DESIGN.md.

This module owns what a scenario *is* (fields, types, ranges, defaults, units, descriptions);
parties have their own module (``sim.scenario.parties``), the field types theirs
(``sim.scenario.fields``). Reading YAML and overrides live in ``sim.scenario.reading`` and
``sim.scenario.paths``, error messages in ``sim.scenario.validation``, cross-references in
``sim.scenario.references``, where file lines are known. Times are days from ``start_date``;
fields typed ``Day`` also accept a calendar date.

``Scenario.get`` and ``Scenario.with_values`` read and change values by dotted path from
Python (notebooks). ``get`` walks the validated models (``sim.scenario.lookup``, below this
module). ``with_values`` must run the whole loading pipeline (overrides, validation with
located errors, cross-references, timeline), which imports this module, so it cannot be
imported from here, not even inside the method, without an import cycle. The pipeline is
therefore handed to this module once, by ``sim/scenario/__init__.py`` (which Python runs
before any module of the package): ``install_with_values(sim.scenario.values.with_values)``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    field_validator,
)

from sim.scenario.custody import Custody
from sim.scenario.dists import Dist, Exponential, Fixed
from sim.scenario.fields import Day, Id, Model, Share
from sim.scenario.formats import Format
from sim.scenario.lookup import get_value
from sim.scenario.parties import PREFERENCES_HELP, Party, Preferences
from sim.scenario.rates import RatePhase
from sim.scenario.rates import rate_shorthand as _rate_shorthand
from sim.scenario.remains import Remains


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
    young_share: Share = Field(0.0, description="share under 25 (for agendas by age)")
    categories: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"soldier": 1.0}, description="category -> share (sum 1)"
    )
    preferences: Preferences = Field(
        default_factory=lambda: {"return": 1.0}, description=PREFERENCES_HELP
    )
    preference_drift: PreferenceDrift | None = Field(
        None, description="wish change of these prisoners (default: captivity.preference_drift)"
    )


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
    young_share: Share = Field(0.0, description="share of captives under 25")
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


# prisoner attributes an agenda by category can name, besides the categories themselves
AGENDA_FLAGS = ("wounded", "severely_wounded", "young")


class Stages(Model):
    """Large deals carried out in stages days apart, each a slice by count or by category."""

    min_size: int = Field(
        1, ge=1, le=10_000_000, description="deals moving at least this many people are staged"
    )
    count: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=3.0),
        description="number of stages (rounded; at least 1, at most the people moved)",
    )
    gap: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=1.0), description="days between stages"
    )
    by: Literal["count", "category"] = Field(
        "count",
        description="slices of equal counts, or one category after another (see `order`)",
    )
    order: list[str] = Field(
        default_factory=list,
        description="by category: who goes first, in order (wounded, severely_wounded, young, or "
        "a category); others last",
    )
    slip: Share = Field(0.0, description="probability a stage slips (is late by `slip_delay`)")
    slip_delay: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=2.0),
        description="days a slipping stage is late",
    )
    cancel: Share = Field(
        0.0, description="probability the rest of the deal is cancelled after each stage"
    )


class SizeRisk(Model):
    """The collapse probability of deals moving at least `at_least` people."""

    at_least: int = Field(ge=1, le=10_000_000, description="people moved by the deal")
    collapse: Share = Field(description="probability it collapses before the handover")


DealKind = Literal["exchange", "release", "asylum"]


def _asylum_without_risk() -> dict[DealKind, float]:
    return {"asylum": 0.0}


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
    collapse_by_size: list[SizeRisk] = Field(
        default_factory=list,
        description="collapse probability by deal size (the largest `at_least` met applies)",
    )
    collapse_by_kind: dict[DealKind, Share] = Field(
        default_factory=_asylum_without_risk,
        description="collapse probability by kind of deal, over size and `collapse`: exchange "
        "(both ways), release (one way), asylum (only handovers to a third party; default 0: "
        "ASSUMPTION that a one-person asylum transfer does not carry a swap's risk)",
    )
    stages: Stages | None = Field(
        None, description="carry large deals out in stages (default: all at once)"
    )
    agenda_only: list[str] = Field(
        default_factory=list,
        description="deals defined by category: only prisoners who are any of these (wounded, "
        "severely_wounded, young, or a category such as civilian) are on the agenda "
        "(default: everyone); with norms.all_for_all, all of them",
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
    formats: list[Format] = Field(
        default_factory=list, description="negotiating formats that open and close by themselves"
    )
    custody: list[Custody] = Field(
        default_factory=list,
        description="neutral custody of prisoners who refuse to go home (see Custody)",
    )
    remains: list[Remains] = Field(
        default_factory=list,
        description="remains of the dead, counted apart from prisoners (see Remains)",
    )

    # the scenario in force at each timeline phase and format state (sim.scenario.phases)
    _phases: Any = PrivateAttr(default=None)

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

    def get(self, path: str) -> Any:
        """The value at dotted ``path`` (the syntax of ``--set``: list items by ``id``, timeline
        entries by date) as plain Python; a sub-model as a dict keyed as in YAML, e.g.
        ``scn.get("intermediaries.uae.delay") == {"dist": "lognormal", "mean": 5.0, "sd": 3.0}``.
        An unknown path raises ``ScenarioError`` naming it and the keys valid where it failed."""
        return get_value(self, path, start_date=self.start_date, source=self.name)

    def with_values(self, changes: Mapping[str, Any]) -> Scenario:
        """A new validated scenario with ``changes`` (dotted path → Python value: numbers,
        booleans, text, dicts for sub-models, lists) applied, equal to what
        ``load_scenario(file, ["path=value", ...])`` gives for the same changes; errors are the
        ``--set`` errors (``ScenarioError`` naming the override, the field and what was
        expected). See ``sim.scenario.values.with_values``."""
        if _WITH_VALUES is None:  # only if sim/scenario/__init__.py was bypassed
            raise RuntimeError("Scenario.with_values needs the sim.scenario package imported")
        return _WITH_VALUES(self, changes)


WithValues = Callable[[Scenario, Mapping[str, Any]], Scenario]
_WITH_VALUES: WithValues | None = None


def install_with_values(implementation: WithValues) -> None:
    """Give ``Scenario.with_values`` its implementation (see the module docstring for why it
    is handed in rather than imported)."""
    global _WITH_VALUES
    _WITH_VALUES = implementation
