"""Sweep parameters and designs: which values each point of a sweep gives its parameters.

A parameter is a dotted scenario path (the same paths as ``--set``) with either a numeric range
``PATH=LOW:HIGH[:STEPS]`` or a list of values ``PATH=a,b,c`` (each read as a YAML scalar).
Designs:

- ``grid``: every combination (``itertools.product``); a range takes ``STEPS`` evenly spaced
  values (default 5).
- ``lhs``: ``K`` points of a Latin hypercube (``scipy.stats.qmc.LatinHypercube``); each range is
  cut into ``K`` strata and each stratum is hit once; a list of values is sampled evenly.
- ``sobol``: Saltelli's extension of the Sobol' sequence (``SALib.sample.sobol``), ``K`` base
  samples giving ``K(2D+2)`` points; ranges only.
- ``morris``: ``K`` Morris trajectories (``SALib.sample.morris``), ``K(D+1)`` points; ranges only.

A path whose value in the scenario is a whole number (``intermediaries.uae.capacity``,
``negotiation.max_rounds``) takes whole numbers: its range is ``ceil(LOW)..floor(HIGH)`` and each
whole number in it is equally likely (the design samples ``[lo-0.5, hi+0.5]`` and rounds).
Other values are rounded to 10 significant digits, so what the output files show is exactly
what ran. The designs' random draws come from the sweep's seed, never from a global RNG.

``analyse`` computes Sobol' or Morris sensitivity indices (SALib) from one value per point.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.params import DesignError, ParamSpec
from sim.model.streams import stable_key

DESIGNS = ("grid", "lhs", "sobol", "morris")
DEFAULT_STEPS = 5
MORRIS_LEVELS = 4
RESAMPLES = 100
CONF_LEVEL = 0.95
INSTALL_SALIB = "pip install 'pxsim[sensitivity]'"


# --------------------------------------------------------------------------- designs
@dataclass
class Design:
    """The points of a sweep: design coordinates and the values they give each parameter."""

    name: str
    specs: tuple[ParamSpec, ...]
    matrix: np.ndarray  # (points, params) design coordinates (what SALib analyses)
    k: int | None  # --points as asked (None for grid)
    notes: list[str] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)  # per point: path -> value
    columns: list[dict[str, Any]] = field(default_factory=list)  # per point: path -> table value

    def __post_init__(self) -> None:
        if not self.values:
            for row in self.matrix:
                pairs = [s.at(float(x)) for s, x in zip(self.specs, row, strict=True)]
                self.values.append({s.path: p[0] for s, p in zip(self.specs, pairs, strict=True)})
                self.columns.append({s.path: p[1] for s, p in zip(self.specs, pairs, strict=True)})

    @property
    def points(self) -> int:
        return len(self.matrix)

    @property
    def paths(self) -> list[str]:
        return [s.path for s in self.specs]

    def problem(self) -> dict[str, Any]:
        """The SALib problem definition."""
        return {
            "num_vars": len(self.specs),
            "names": self.paths,
            "bounds": [list(s.bounds) for s in self.specs],
        }

    def digest(self) -> str:
        blob = json.dumps(self.columns, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def derived_seed(seed: int, purpose: str) -> int:
    """A non-zero 32-bit seed for ``purpose`` (``design:lhs``, ``analysis``) from the sweep's."""
    state = np.random.SeedSequence([int(seed), stable_key(f"sweep:{purpose}")]).generate_state(1)
    return int(state[0]) or 1


def _salib(design: str) -> Any:
    try:
        import SALib
    except ImportError:
        raise DesignError(
            f"needs SALib, which is not installed; install it with {INSTALL_SALIB}",
            source=f"--design {design}",
        ) from None
    import SALib.analyze.morris
    import SALib.analyze.sobol
    import SALib.sample.morris
    import SALib.sample.sobol

    return SALib


def check_design(specs: Sequence[ParamSpec], design: str, points: int | None) -> None:
    """Refuse what a design cannot do, before anything runs."""
    if design not in DESIGNS:
        raise DesignError(
            f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}",
            source=f"--design {design}",
        )
    if design in ("sobol", "morris"):
        for s in specs:
            if s.kind == "values":
                raise s.error(
                    f"--design {design} needs numeric ranges (LOW:HIGH); {s.path} is a list "
                    "of values (use --design grid or lhs, or fix it with --set)"
                )
        _salib(design)
    if design != "grid" and (points is None or points < 1):
        raise DesignError(f"expected --points >= 1, got {points}", source=f"--design {design}")
    if design == "morris" and points is not None and points < 2:
        raise DesignError(
            "expected --points >= 2 (Morris trajectories)", source=f"--design {design}"
        )


def make_design(specs: Sequence[ParamSpec], design: str, points: int | None, seed: int) -> Design:
    """The points of ``design`` for ``specs`` (typed with ``type_params``)."""
    check_design(specs, design, points)
    specs = tuple(specs)
    d = len(specs)
    notes: list[str] = []
    if design == "grid":
        return _grid(specs)
    assert points is not None
    ignored = [s.path for s in specs if s.steps is not None]
    if ignored:
        notes.append(f"STEPS is used by --design grid only; ignored for {', '.join(ignored)}")
    if design == "lhs":
        from scipy.stats import qmc

        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([int(seed), stable_key("sweep:design:lhs")]))
        )
        try:
            sampler = qmc.LatinHypercube(d, rng=rng)
        except TypeError:  # scipy < 1.15
            sampler = qmc.LatinHypercube(d, seed=rng)
        u = sampler.random(points)
        lo = np.array([s.bounds[0] for s in specs])
        hi = np.array([s.bounds[1] for s in specs])
        return Design("lhs", specs, lo + u * (hi - lo), points, notes)
    salib = _salib(design)
    problem = {
        "num_vars": d,
        "names": [s.path for s in specs],
        "bounds": [list(s.bounds) for s in specs],
    }
    sseed = derived_seed(seed, f"design:{design}")
    if design == "sobol":
        if points & (points - 1):
            notes.append(
                f"--points {points} is not a power of 2; Sobol' points are balanced at 2^m"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = salib.sample.sobol.sample(problem, points, calc_second_order=True, seed=sseed)
    else:
        x = salib.sample.morris.sample(problem, points, num_levels=MORRIS_LEVELS, seed=sseed)
    return Design(design, specs, np.asarray(x, dtype=float), points, notes)


def _grid(specs: tuple[ParamSpec, ...]) -> Design:
    axes: list[list[float]] = []
    notes: list[str] = []
    for s in specs:
        if s.kind == "values":
            axes.append([float(i) for i in range(len(s.values))])
            continue
        steps = s.steps or DEFAULT_STEPS
        lo, hi = s.int_range if s.integer else (s.low, s.high)
        raw = np.linspace(lo, hi, steps)
        level: list[float] = []
        seen: set[Any] = set()
        for x in raw:
            v = s.at(float(x))[0]
            if v not in seen:
                seen.add(v)
                level.append(float(v))
        if len(level) < steps:
            notes.append(f"{s.path} is a whole number: {len(level)} distinct values, not {steps}")
        axes.append(level)
    matrix = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(specs))
    return Design("grid", specs, matrix, None, notes)


# --------------------------------------------------------------------------- analysis
SOBOL_COLUMNS = ("metric", "parameter", "S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("metric", "parameter", "mu", "mu_star", "mu_star_conf", "sigma")


def index_columns(design: str) -> tuple[str, ...]:
    return SOBOL_COLUMNS if design == "sobol" else MORRIS_COLUMNS


def analyse(
    design: Design, outputs: Mapping[str, np.ndarray], seed: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Sensitivity indices of each output (one value per point) to each parameter.

    Returns rows (``index_columns(design.name)``) and the outputs left out, with the reason
    (constant across points, or undefined at some)."""
    if design.name not in ("sobol", "morris"):
        return [], {}
    salib = _salib(design.name)
    problem = design.problem()
    aseed = derived_seed(seed, "analysis")
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for metric, y in outputs.items():
        y = np.asarray(y, dtype=float)
        missing = int(np.isnan(y).sum())
        if missing:
            skipped[metric] = f"undefined at {missing} of {len(y)} points"
            continue
        if np.all(y == y[0]):
            skipped[metric] = "constant across points"
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if design.name == "sobol":
                si = salib.analyze.sobol.analyze(
                    problem,
                    y,
                    calc_second_order=True,
                    num_resamples=RESAMPLES,
                    conf_level=CONF_LEVEL,
                    print_to_console=False,
                    seed=aseed,
                )
                keys = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                si = salib.analyze.morris.analyze(
                    problem,
                    design.matrix,
                    y,
                    num_resamples=RESAMPLES,
                    conf_level=CONF_LEVEL,
                    print_to_console=False,
                    num_levels=MORRIS_LEVELS,
                    seed=aseed,
                )
                keys = ("mu", "mu_star", "mu_star_conf", "sigma")
        for j, path in enumerate(design.paths):
            row: dict[str, Any] = {"metric": metric, "parameter": path}
            row.update({k: float(np.asarray(si[k])[j]) for k in keys})
            rows.append(row)
    return rows, skipped
