"""A calibration planned before anything runs: the scenario, the observations and the targets
chosen from them, the priors (``--fit PATH=LOW:HIGH``, uniform), the round-0 design (a Latin
hypercube over the prior box), and every option checked, with errors naming the flag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError
from sim.experiments.params import DesignError, ParamSpec
from sim.fit.observed import Observations, load_observations
from sim.results.targets import Target
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.experiments.sweep import SweepPlan


ESTIMATES = ("median", "mean", "best")
MATCHES = ("runs", "mean")
FILES = (
    "fitted.yaml",
    "fit.csv",
    "posterior.csv",
    "targets.csv",
    "prediction.csv",
    "fit.png",
    "fit.svg",
    "calibration.json",
)
BAND = (0.05, 0.95)


# --------------------------------------------------------------------------- planning
@dataclass
class CalibrationPlan:
    sweep: SweepPlan
    observations: Observations
    selected: list[str]  # target ids in the distance
    replications: int
    accept: float
    estimate: str
    check_replications: int
    scenario_text: str | None
    rounds: int = 1
    match: str = "runs"  # "runs": every replication against the record; "mean": their mean
    predictions: list[Target] = field(
        default_factory=list
    )  # unobserved: predicted only  # the scenario file's text (to write fitted.yaml with comments)

    @property
    def specs(self) -> tuple[ParamSpec, ...]:
        return self.sweep.design.specs

    @property
    def targets(self) -> list[Target]:
        return self.observations.targets

    @property
    def fixed(self) -> dict[str, Any]:
        """The ``--set`` values every point shares."""
        from sim.scenario.paths import parse_override

        return dict(parse_override(o) for o in self.sweep.overrides)

    @property
    def all_targets(self) -> list[Target]:
        """The observed targets, then the predicted quantities (the statistics' layout)."""
        return [*self.observations.targets, *self.predictions]


def _fit_error(exc: ScenarioError) -> ScenarioError:
    """Sweep messages name ``--param``; here the flag is ``--fit``."""
    source = exc.source
    if source and source.startswith("--param"):
        source = "--fit" + source[len("--param") :]
    detail = exc.detail.replace("--param ", "--fit ")
    return DesignError(detail, source=source, line=exc.line, field=exc.field)


def plan_calibration(
    scenario: str | Path,
    observed: str | Path,
    fit: Sequence[str] | Mapping[str, Any],
    *,
    targets: Sequence[str] | None = None,
    points: int = 400,
    replications: int = 8,
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    accept: float = 0.05,
    estimate: str = "median",
    check_replications: int = 200,
    rounds: int = 1,
    match: str = "runs",
    predict: Sequence[str] = (),
) -> CalibrationPlan:
    """Validate everything (fit ranges, observations, every point's scenario) up front."""
    from sim.experiments.params import parse_params
    from sim.experiments.sweep import plan_sweep

    if not fit:
        raise DesignError("calibrate needs at least one --fit PATH=LOW:HIGH", source="--fit")
    if estimate not in ESTIMATES:
        raise DesignError(f"expected one of {', '.join(ESTIMATES)}", source="--estimate")
    if not 0 < accept <= 1:
        raise DesignError(f"expected a share in (0, 1], got {accept:g}", source="--accept")
    if rounds < 1:
        raise DesignError(f"expected 1 or more, got {rounds}", source="--rounds")
    if match not in MATCHES:
        raise DesignError(f"expected one of {', '.join(MATCHES)}", source="--match")
    try:
        for spec in parse_params(fit):
            if spec.kind != "range" or spec.steps is not None:
                raise spec.error("calibrate fits numeric ranges: expected PATH=LOW:HIGH")
        plan = plan_sweep(
            scenario, fit, design="lhs", points=points, seed=seed, overrides=overrides
        )
    except DesignError as exc:
        raise _fit_error(exc) from None
    base = plan.base
    obs = load_observations(observed, base.start_date, base.party_ids)
    for t in obs.targets:
        late = [d for d, day in zip(t.dates, t.days, strict=True) if day > base.horizon]
        if late:
            raise ScenarioError(
                f"target {t.id!r} is observed on {late[0]}, after the scenario's horizon "
                f"({base.horizon:g} days from {base.start_date}); drop it or extend the horizon",
                source=obs.source,
            )
    selected = [t.id for t in obs.select(targets)]
    predictions = prediction_targets(base, predict)
    text = Path(scenario).read_text(encoding="utf-8")
    return CalibrationPlan(
        plan,
        obs,
        selected,
        int(replications),
        accept,
        estimate,
        int(check_replications),
        text,
        int(rounds),
        match,
        predictions,
    )


def prediction_targets(base: Scenario, predict: Sequence[str]) -> list[Target]:
    """Deals and people returned to each party in every ``LABEL=FIRST:LAST`` period."""
    from sim.fit.periods import parse_period

    out: list[Target] = []
    for text in predict:
        p = parse_period(text)
        first = float((p.first - base.start_date).days - 1)
        last = float((p.last - base.start_date).days)
        if first < -1 or last > base.horizon:
            raise ScenarioError(
                f"period {p.label} ({p.first}..{p.last}) is not within the simulated days "
                f"({base.start_date} + {base.horizon:g} days); to predict beyond the record, "
                "extend the horizon, e.g. --set horizon=" + p.last.isoformat(),
                source=f"--predict {text}",
            )
        dates = (f"{p.first}-1", p.last.isoformat())
        out.append(Target(f"{p.label}:deals", "cumulative_deals", days=(first, last), dates=dates))
        out += [
            Target(
                f"{p.label}:returned_{q}",
                "cumulative_returned",
                party=q,
                days=(first, last),
                dates=dates,
            )
            for q in base.party_ids
        ]
    return out


def group_size(points: int) -> int:
    """Points per task: about 64 tasks in all (never depends on the workers)."""
    return max(1, math.ceil(points / 64))
