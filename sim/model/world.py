"""What the agents see of a replication: the ``World`` interface, and the records they keep.

The agents (``initiative``, ``talks``, ``deals``, ``timeline``) are SimPy processes written as
functions of a ``World``: the scenario in force, the clock, the prisoner table, the run-time
state of negotiation (cool-downs, busy channels, talks in progress, prisoners promised to deals)
and a handful of services (draws from named streams, the recorder, ids, a phase change).
``sim.model.simulation.Simulation`` is the one implementation; naming the interface here keeps
the agents below the simulation that runs them, and says exactly what they may touch.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import simpy

if TYPE_CHECKING:
    from collections import defaultdict

    from sim.model.negotiation import Transfer
    from sim.model.prisoners import PrisonerTable
    from sim.model.remains_ledger import RemainsLedger
    from sim.model.streams import Streams
    from sim.scenario.dists import _Dist
    from sim.scenario.schema import Scenario


Proc = Generator[simpy.Event, Any, Any]


@dataclass
class Talks:
    """One negotiation: who, over which channel, how it went."""

    id: int
    parties: tuple[int, ...]
    initiator: int
    channel: str  # "direct" or an intermediary id
    opened: float
    closed: float | None = None
    outcome: str = "open"
    rounds: int = 0
    offers: int = 0
    lost: int = 0
    deal_id: int | None = None
    received: dict[int, list[float]] = field(default_factory=dict)
    # per party: what its strategy sees besides time and offers (fixed through the talks)
    context: dict[int, dict[str, Any]] = field(default_factory=dict)


class World(Protocol):
    """The replication as the agents see it (attributes read and written, services called)."""

    # the world in force
    scn: Scenario  # the scenario of the current timeline phase
    env: simpy.Environment
    table: PrisonerTable
    remains: RemainsLedger  # stocks of remains, counted apart from prisoners
    streams: Streams  # named random streams, for draws in blocks
    party_ids: list[str]
    n_parties: int
    allies: list[set[int]]  # per party: indices of its allies
    direct: np.ndarray  # n × n: a direct channel between two parties
    flags_asylum: np.ndarray  # per party: offers asylum
    flags_honours: np.ndarray  # per party: honours prisoners' wishes
    uniform_weights: list[bool]  # per party: every category weighs the same
    phase_changed: simpy.Event  # fires at each timeline change
    version: int  # bumped whenever who is held may change other than by time
    states: tuple[int, ...]  # the current state of each format (sim.scenario.formats)
    counts_cache: tuple[float, int, dict[Transfer, int]] | None
    # answers that depend only on the scenario in force (candidate sets, the channels that
    # connect a set of parties): remembered until it changes
    memo: dict[Any, Any]
    # negotiation state
    cooldown_until: dict[tuple[int, ...], float]
    active_sets: set[tuple[int, ...]]
    busy: dict[str, int]  # talks in progress per intermediary
    reserved: dict[Transfer, int]  # prisoners promised to deals in preparation
    # records
    record_events: bool
    counters: defaultdict[str, int]
    talks: list[Talks]
    deals: list[dict[str, Any]]
    first_deal_day: float | None

    def draw(self, stream: str, dist: _Dist) -> float: ...
    def uniform(self, stream: str) -> float: ...
    def record(self, t: float, kind: str, **data: Any) -> None: ...
    def next_id(self, kind: str) -> int: ...
    def category_weights(self, q: int) -> np.ndarray: ...
    def change_phase(self, new: Scenario) -> None: ...
    def enter_phase(self, phase: int) -> None: ...
    def enter_state(self, fmt: int, state: int, note: str) -> None: ...
    def format_event(self, fmt_id: str, state_id: str) -> simpy.Event: ...
