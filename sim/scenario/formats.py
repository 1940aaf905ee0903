"""Negotiating formats in the scenario schema: named regimes that open and close by themselves.

A *format* is one track of the negotiating world (a routine mediated channel, a summit track,
a freeze, an acknowledgement that may come): a set of *states*, each a set of overrides with
the dotted paths of ``--set`` and the timeline, and *transitions* between them. A transition
leaves its state

- by a hazard: after an exponential time with rate ``hazard`` per day (competing with the
  state's other hazards: the first to fire wins, which is the usual competing-risks reading);
- on a date: at day ``at``, if the format is then in the ``from`` state (a summit, a deadline);
- on an event: ``when: OTHER.STATE``, as soon as format ``OTHER`` is in ``STATE`` (talks that
  open once a party acknowledges a nationality).

Several formats run at once (the UAE channel went on beside the Istanbul track in 2025): the
scenario in force is the base, plus the timeline's dated changes so far, plus the overrides of
each format's current state, applied in the order the formats are listed. The timeline stays
for changes whose date is known; formats are for those whose date is not.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from sim.scenario.fields import Day, Id, Model


class FormatState(Model):
    """One state of a format and the values it sets while it holds."""

    id: Id = Field(description="identifier (unique within the format)")
    set: dict[str, Any] = Field(
        default_factory=dict, description="dotted path -> value while in this state"
    )
    note: str = Field("", description="what this state is (shown in traces)")


class Transition(Model):
    """A way from one state to another: by a hazard, on a date, or on another format's change."""

    from_: Id = Field(alias="from", description="state left")
    to: Id = Field(description="state entered")
    hazard: float | None = Field(
        None, gt=0, le=10, description="per day: leaves after an exponential time of mean 1/hazard"
    )
    at: Day | None = Field(None, description="day (or date): leaves then, if in `from`")
    when: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        description="FORMAT.STATE: leaves as soon as that format is in that state",
    )
    note: str = Field("", description="what happened (shown in traces)")

    @model_validator(mode="after")
    def _one_trigger(self) -> Transition:
        given = [k for k in ("hazard", "at", "when") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of `hazard`, `at` or `when`, got "
                + (", ".join(given) if given else "none")
            )
        if self.from_ == self.to:
            raise ValueError(f"a transition must change state; `from` and `to` are both {self.to}")
        return self


class Format(Model):
    """A negotiating format: states with the values they set, and transitions between them."""

    id: Id = Field(description="identifier")
    name: str | None = Field(None, description="display name")
    initial: Id = Field(description="state at day 0")
    states: list[FormatState] = Field(min_length=2, description="its states")
    transitions: list[Transition] = Field(default_factory=list, description="ways between them")

    @model_validator(mode="after")
    def _states_known(self) -> Format:
        ids = [s.id for s in self.states]
        if len(set(ids)) != len(ids):
            raise ValueError(f"state ids must be unique, got {', '.join(ids)}")
        for what, sid in [("initial", self.initial)] + [
            (f"transition {t.from_} -> {t.to}", s)
            for t in self.transitions
            for s in (t.from_, t.to)
        ]:
            if sid not in ids:
                raise ValueError(f"{what}: no state {sid!r}; states are: {', '.join(ids)}")
        return self

    def state_index(self, sid: str) -> int:
        return [s.id for s in self.states].index(sid)
