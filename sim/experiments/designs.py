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
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import yaml

from sim.errors import ScenarioError
from sim.model.streams import stable_key
from sim.scenario.paths import dotted_key, find_item, split_path

DESIGNS = ("grid", "lhs", "sobol", "morris")
DEFAULT_STEPS = 5
MORRIS_LEVELS = 4
RESAMPLES = 100
CONF_LEVEL = 0.95
RESERVED = ("seed", "replications")  # set by the sweep itself (--seed, -n)
SYNTAX = "expected PATH=LOW:HIGH[:STEPS] (a numeric range) or PATH=a,b,c (a list of values)"
INSTALL_SALIB = "pip install 'pxsim[sensitivity]'"


class DesignError(ScenarioError):
    """A sweep parameter or design is wrong; names the ``--param`` (or ``--design``)."""


@dataclass(frozen=True)
class ParamSpec:
    """One swept parameter: a numeric range or a list of values at a scenario path."""

    path: str
    text: str  # as the user gave it, for messages
    kind: str  # "range" | "values"
    low: float = math.nan
    high: float = math.nan
    steps: int | None = None
    values: tuple[Any, ...] = ()
    labels: tuple[str, ...] = ()
    integer: bool = False

    @property
    def label(self) -> str:
        return f"--param {self.text}"

    def error(self, message: str) -> DesignError:
        return DesignError(message, source=self.label)

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval the design samples (list values: their index in ``[0, m)``)."""
        if self.kind == "values":
            return 0.0, float(len(self.values))
        if self.integer:
            lo, hi = self.int_range
            return lo - 0.5, hi + 0.5
        return self.low, self.high

    @property
    def int_range(self) -> tuple[int, int]:
        return math.ceil(self.low), math.floor(self.high)

    def at(self, x: float) -> tuple[Any, Any]:
        """(scenario value, table value) at design coordinate ``x``."""
        if self.kind == "values":
            i = min(max(math.floor(x), 0), len(self.values) - 1)
            return self.values[i], self.labels[i]
        if self.integer:
            lo, hi = self.int_range
            v = int(min(max(math.floor(x + 0.5), lo), hi))
            return v, v
        f = min(max(float(f"{x:.10g}"), self.low), self.high)
        return f, f

    def describe(self) -> dict[str, Any]:
        if self.kind == "values":
            return {"path": self.path, "values": list(self.labels)}
        d: dict[str, Any] = {"path": self.path, "low": self.low, "high": self.high}
        if self.steps is not None:
            d["steps"] = self.steps
        d["integer"] = self.integer
        return d


# --------------------------------------------------------------------------- parsing
def _label(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


def _number(text: str, spec_text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise DesignError(
            f"{what} {text.strip()!r} is not a number; {SYNTAX}", source=f"--param {spec_text}"
        ) from None
    if not math.isfinite(v):
        raise DesignError(f"{what} must be a finite number", source=f"--param {spec_text}")
    return v


def _check_path(path: str, text: str) -> str:
    try:
        parts = split_path(path)
    except ValueError as exc:
        raise DesignError(str(exc), source=f"--param {text}") from None
    if parts[0] in RESERVED:
        raise DesignError(
            f"{parts[0]} is set by the sweep itself; use --seed / -n", source=f"--param {text}"
        )
    return ".".join(parts)


def _scalar(token: str, text: str) -> Any:
    try:
        v = yaml.safe_load(token)
    except yaml.YAMLError:
        return token
    if isinstance(v, list | dict):
        raise DesignError(
            f"value {token!r} is not a plain value; {SYNTAX}", source=f"--param {text}"
        )
    return v


def parse_param(text: str) -> ParamSpec:
    """``'negotiation.collapse=0:0.3'``, ``'...=0:0.3:4'`` or ``'...=true,false'``."""
    if "=" not in text:
        raise DesignError(SYNTAX, source=f"--param {text}")
    raw_path, raw = text.split("=", 1)
    path = _check_path(raw_path, text)
    raw = raw.strip()
    if not raw:
        raise DesignError(f"nothing after '='; {SYNTAX}", source=f"--param {text}")
    if "," in raw:
        tokens = [t.strip() for t in raw.split(",")]
        if any(not t for t in tokens):
            raise DesignError(f"empty value in the list {raw!r}", source=f"--param {text}")
        values = tuple(_scalar(t, text) for t in tokens)
        return ParamSpec(path, text, "values", values=values, labels=tuple(map(_label, values)))
    if ":" not in raw:
        raise DesignError(
            f"{SYNTAX}; to fix one value for every point use --set {path}={raw}",
            source=f"--param {text}",
        )
    bits = raw.split(":")
    if len(bits) > 3:
        raise DesignError(f"too many ':'; {SYNTAX}", source=f"--param {text}")
    low = _number(bits[0], text, "LOW")
    high = _number(bits[1], text, "HIGH")
    if not low < high:
        raise DesignError(f"expected LOW < HIGH, got {low:g}:{high:g}", source=f"--param {text}")
    steps = None
    if len(bits) == 3:
        try:
            steps = int(bits[2])
        except ValueError:
            raise DesignError(
                f"STEPS {bits[2].strip()!r} is not a whole number", source=f"--param {text}"
            ) from None
        if steps < 2:
            raise DesignError(f"expected STEPS >= 2, got {steps}", source=f"--param {text}")
    return ParamSpec(path, text, "range", low=low, high=high, steps=steps)


def param_from_value(path: str, spec: Any) -> ParamSpec:
    """The dict form of the Python API: ``(low, high)``, ``(low, high, steps)`` or a list."""
    if isinstance(spec, str):
        return parse_param(f"{path}={spec}")
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        text = f"{path}=" + ":".join(str(v) for v in spec)
        return parse_param(text)
    if isinstance(spec, list | np.ndarray) and len(spec) > 0:
        values = tuple(v.item() if isinstance(v, np.generic) else v for v in spec)
        text = f"{path}=" + ",".join(_label(v) for v in values)
        _check_path(path, text)
        return ParamSpec(
            ".".join(split_path(path)),
            text,
            "values",
            values=values,
            labels=tuple(map(_label, values)),
        )
    raise DesignError(
        f"expected (low, high), (low, high, steps) or a list of values, got {spec!r}",
        source=f"--param {path}",
    )


def parse_params(params: Sequence[str] | Mapping[str, Any]) -> list[ParamSpec]:
    """Parse ``['path=low:high', ...]`` or ``{path: (low, high) | [values]}``."""
    if isinstance(params, str):
        params = [params]
    if isinstance(params, Mapping):
        specs = [param_from_value(str(k), v) for k, v in params.items()]
    else:
        specs = [parse_param(str(t)) for t in params]
    if not specs:
        raise DesignError(
            "a sweep needs at least one PATH=LOW:HIGH or PATH=a,b,c", source="--param"
        )
    seen: set[str] = set()
    for s in specs:
        if s.path in seen:
            raise s.error(f"{s.path} is swept twice")
        seen.add(s.path)
    return specs


# --------------------------------------------------------------------------- typing from scenario
_MISSING = object()


def _days_since(start: Any, seg: str) -> str:
    """``seg`` as days since ``start`` (how a resolved scenario writes a timeline date)."""
    import datetime as dt

    try:
        days = (dt.date.fromisoformat(seg) - dt.date.fromisoformat(str(start))).days
    except (TypeError, ValueError):
        return seg
    return str(float(days))


def get_path(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in a resolved scenario dict (list items by id), if any."""
    node = data
    parts = split_path(path)
    i = 0
    while i < len(parts):
        i, seg = dotted_key(node, parts, i)
        i += 1
        if isinstance(node, list):
            idx = find_item(node, seg)
            if idx is None and isinstance(data, Mapping):  # resolved: timeline ``at`` in days
                idx = find_item(node, _days_since(data.get("start_date"), seg))
            if idx is None:
                return _MISSING
            node = node[idx]
        elif isinstance(node, Mapping) and seg in node:
            node = node[seg]
        else:
            return _MISSING
    return node


def type_params(specs: Sequence[ParamSpec], resolved: Mapping[str, Any]) -> list[ParamSpec]:
    """Mark ranges at whole-number fields as integer; refuse ranges at yes/no or text fields."""
    out = []
    for s in specs:
        if s.kind == "range":
            current = get_path(resolved, s.path)
            if isinstance(current, bool):
                raise s.error(
                    f"{s.path} is true/false, not a number; list the values instead: "
                    f"--param {s.path}=true,false"
                )
            if isinstance(current, str):
                raise s.error(
                    f"{s.path} is text ({current!r}), not a number; list the values instead: "
                    f"--param {s.path}=a,b,c"
                )
            if isinstance(current, int):
                s = replace(s, integer=True)
                lo, hi = s.int_range
                if lo > hi:
                    raise s.error(
                        f"{s.path} is a whole number and there is none between "
                        f"{s.low:g} and {s.high:g}"
                    )
        out.append(s)
    return out


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
