"""``pxsim check``: pxsim against closed-form theory, on stripped-down scenarios built in code.

Each check runs a small world whose answer is known in closed form and compares it with what
the simulator produces:

* Poisson captures: mean and variance of the count are both ``λT``;
* deaths in captivity with no exchanges: held ``λ(1 − e^(−hT))/h`` at ``T``, the rest died;
* Little's law: time-average number held = arrival rate × mean days held (an exact identity
  on every run), and its finite-horizon expectation, ``λ/h`` and ``1/h`` in the steady state;
* time-dependent concession (Faratin, Sierra & Jennings 1998): two agents over a linear split
  agree at ``t* = T (1 / (2 (1 − r)))^e``;
* Rubinstein (1982) alternating offers: the first mover gets ``(1 − δ2)/(1 − δ1 δ2)``;
* war of attrition: the first concession comes after ``1 / (c1/V1 + c2/V2)`` on average.

Tolerances are stated with each result. A deterministic check (fixed delays, no randomness in
what is measured) must land within the model's discretisation: one round of offers, or one
prisoner of rounding. A stochastic check passes when ``|simulated − theory| < 4 SE`` (SE the
standard error over seeded replications): a false alarm about 1 in 16,000 per check. Where the
protocol adds a known bounded bias (agents act only when an offer arrives), the band
``[theory + lo, theory + hi]`` widened by ``4 SE`` is used instead. Runs are seeded, so a given
seed always gives the same verdicts.

Every check function takes its parameters by keyword and an optional ``world`` mapping that
changes the simulated world only (theory keeps the nominal values): that is how the tests show
each check can fail.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sim.experiments.experiment import run_one
from sim.scenario.loading import loads_scenario
from sim.scenario.strategies import agreement_time, rubinstein_share

Z95 = 1.959963984540054  # two-sided 95% normal quantile
K_SE = 4.0  # stochastic checks: |sim - theory| < 4 SE
DEFAULT_SEED = 2025
STOCHASTIC_WHY = "stochastic: a false alarm about 1 in 16,000 per check"


@dataclass
class CheckResult:
    """One comparison of a simulated quantity with its closed-form value."""

    name: str
    title: str
    formula: str
    expected: float
    simulated: float
    se: float  # standard error of ``simulated``; 0 for a deterministic result
    n: int  # replications (or runs) behind ``simulated``
    low: float  # accepted range of ``simulated``
    high: float
    tolerance: str  # the rule, in words and numbers
    why: str  # why this tolerance
    passed: bool
    note: str = ""
    seconds: float = 0.0

    @property
    def deterministic(self) -> bool:
        return self.se == 0.0

    @property
    def z(self) -> float | None:
        """Distance from theory in standard errors (None for a deterministic result)."""
        return None if self.deterministic else (self.simulated - self.expected) / self.se

    @property
    def interval(self) -> tuple[float, float] | None:
        """95% interval of the simulated value (None for a deterministic one)."""
        if self.deterministic:
            return None
        return self.simulated - Z95 * self.se, self.simulated + Z95 * self.se

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (a non-finite number becomes None)."""
        out = asdict(self)
        ci = self.interval
        out["ci_low"], out["ci_high"] = (None, None) if ci is None else ci
        out["deterministic"] = self.deterministic
        out["z"] = self.z
        return {
            k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in out.items()
        }


def judge(
    name: str,
    title: str,
    formula: str,
    expected: float,
    simulated: float,
    *,
    se: float = 0.0,
    n: int = 1,
    band: tuple[float, float] = (0.0, 0.0),
    band_why: str = "",
    why: str = "",
    note: str = "",
) -> CheckResult:
    """Compare ``simulated`` with ``expected``: pass when it lies in
    ``[expected + band[0] − 4 SE, expected + band[1] + 4 SE]`` (SE = 0: deterministic)."""
    lo, hi = expected + band[0] - K_SE * se, expected + band[1] + K_SE * se
    ok = bool(np.isfinite(simulated)) and lo <= simulated <= hi
    width = f"4 SE = {_fmt(K_SE * se, 3)}"
    if se > 0 and band == (0.0, 0.0):
        rule = f"|sim − theory| < {width}"
    elif se > 0:
        rule = (
            f"sim in [theory{_plus(band[0])}, theory{_plus(band[1])}] widened by {width}: "
            f"[{_fmt(lo, 4)}, {_fmt(hi, 4)}]"
        )
    elif band[0] == -band[1]:
        rule = f"|sim − theory| ≤ {_fmt(band[1], 3)}"
    else:
        rule = f"theory{_plus(band[0])} ≤ sim ≤ theory{_plus(band[1])}"
    reasons = [r for r in (band_why, why or (STOCHASTIC_WHY if se > 0 else "")) if r]
    return CheckResult(
        name,
        title,
        formula,
        float(expected),
        float(simulated),
        float(se),
        int(n),
        float(lo),
        float(hi),
        rule,
        "; ".join(reasons),
        ok,
        note,
    )


def mean_se(x: Iterable[float]) -> tuple[float, float, int]:
    a = np.asarray(list(x), dtype=float)
    n = len(a)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf, n


def _fmt(v: float, sig: int = 5) -> str:
    """``v`` to ``sig`` significant digits, without trailing zeros; thousands separated."""
    if v == 0 or not np.isfinite(v):
        return f"{v:g}"
    if abs(v) < 1e-3:
        return f"{v:.{sig - 2}g}"
    if abs(v) >= 1000:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
    digits = max(0, sig - 1 - math.floor(math.log10(abs(v))))
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"


def _plus(v: float) -> str:
    if v == 0:
        return ""
    return f" + {_fmt(v, 3)}" if v > 0 else f" − {_fmt(-v, 3)}"


# ---------------------------------------------------------------------------- worlds
def quiet_world(rate: float, horizon: float, hazard: float = 0.0, batch: int = 1) -> str:
    """Two parties that never negotiate; ``a`` captures ``b`` in ``rate`` incidents a day,
    ``batch`` people each; prisoners die at ``hazard`` a day."""
    return f"""
name: check_quiet
start_date: 2025-01-01
horizon: {horizon}
parties:
  - {{id: a, initiative: null}}
  - {{id: b, initiative: null}}
capture_streams:
  - {{id: ab, captor: a, nationality: b, rate: {rate}, batch: {{dist: fixed, value: {batch}}}}}
captivity:
  death_hazard: {{healthy: {hazard}, wounded: {hazard}}}
"""


def split_world(
    strategy_a: str,
    strategy_b: str,
    *,
    delay: float,
    deadline: float = 100.0,
    reservation: float = 0.0,
    count: int = 1000,
    extra_a: str = "",
    extra_b: str = "",
    horizon: float = 400.0,
) -> str:
    """A linear split: each side holds ``count`` of the other's people and values its own
    coming home as much as a prisoner kept (own = chip), so the two normalised values of any
    deal sum to 1; both accept losses (any agreement beats none, as in the textbook models).
    ``a`` opens talks at day 1 (once), fixed relay delay, no breakdowns, no collapse."""
    party = """
  - id: {id}
    values: {{own: 1.0, chip: 1.0}}
    strategy: {strategy}
    reservation: {reservation}
    deadline: {deadline}
    accepts_losses: true
    initiative: {initiative}
    {extra}"""
    a = party.format(
        id="a",
        strategy=strategy_a,
        reservation=reservation,
        deadline=deadline,
        initiative="{dist: fixed, value: 1}\n    direct_channels: [b]",
        extra=extra_a,
    )
    b = party.format(
        id="b",
        strategy=strategy_b,
        reservation=reservation,
        deadline=deadline,
        initiative="null",
        extra=extra_b,
    )
    return f"""
name: check_split
start_date: 2025-01-01
horizon: {horizon}
parties:{a}{b}
holdings:
  - {{holder: a, nationality: b, count: {count}}}
  - {{holder: b, nationality: a, count: {count}}}
negotiation:
  direct_delay: {{dist: fixed, value: {delay}}}
  breakdown_risk: 0
  max_rounds: 10000
  cooldown: {{dist: fixed, value: 10000}}
  collapse: 0
timeline:
  - {{at: 1.5, set: {{parties.a.initiative: null}}}}
"""


def _params(
    defaults: Mapping[str, Any],
    params: Mapping[str, Any],
    world: Mapping[str, Any] | None,
    world_only: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Theory's parameters (defaults updated by ``params``) and the simulated world's (those
    updated by ``world``, which may also set the ``world_only`` knobs theory assumes away)."""
    theory = {**defaults, **params}
    extra = dict(world_only or {})
    unknown = (set(params) - set(defaults)) | (set(world or {}) - set(defaults) - set(extra))
    if unknown:
        raise TypeError(f"unknown check parameter(s): {', '.join(sorted(unknown))}")
    return theory, {**extra, **theory, **(world or {})}


def _first_talks(res: Any) -> dict[str, Any]:
    if not res.talks:
        return {"outcome": "none", "opened": math.nan, "closed": math.nan, "rounds": 0}
    return dict(res.talks[0])


# ---------------------------------------------------------------------------- checks
POISSON = {"rate": 2.0, "horizon": 200.0}


def check_poisson(
    reps: int, seed: int = DEFAULT_SEED, world: Mapping[str, Any] | None = None, **params: Any
) -> list[CheckResult]:
    """Captures form a Poisson process: the count by T has mean and variance λT. ``world``
    may also set ``batch`` (people per incident; theory assumes 1)."""
    p, w = _params(POISSON, params, world, {"batch": 1})
    scn = loads_scenario(quiet_world(w["rate"], w["horizon"], batch=w["batch"]))
    x = np.array([run_one(scn, seed, r).outcomes["captured"] for r in range(reps)], dtype=float)
    lam_t = p["rate"] * p["horizon"]
    given = f"λ = {_fmt(p['rate'])}/day, T = {_fmt(p['horizon'])} days"
    m, se, n = mean_se(x)
    ratio = float(x.var(ddof=1) / x.mean())
    return [
        judge(
            "poisson_mean",
            "Poisson captures: mean count",
            f"E[N(T)] = λT; {given}",
            lam_t,
            m,
            se=se,
            n=n,
        ),
        judge(
            "poisson_dispersion",
            "Poisson captures: variance / mean",
            f"Var[N(T)] / E[N(T)] = 1; {given}",
            1.0,
            ratio,
            se=math.sqrt(2.0 / (n - 1)),
            n=n,
            why="stochastic: under Poisson counts (n − 1)·var/mean is χ²(n − 1), so the ratio "
            "has sd √(2/(n − 1)); 4 sd is a false alarm about 1 in 16,000",
        ),
    ]


HELD = {"rate": 1.0, "hazard": 0.01, "horizon": 200.0}


def check_held(
    reps: int, seed: int = DEFAULT_SEED, world: Mapping[str, Any] | None = None, **params: Any
) -> list[CheckResult]:
    """Deaths at hazard h, no exchanges: held at T and died by T (both Poisson)."""
    p, w = _params(HELD, params, world)
    scn = loads_scenario(quiet_world(w["rate"], w["horizon"], w["hazard"]))
    outs = [run_one(scn, seed, r).outcomes for r in range(reps)]
    lam, h, t = p["rate"], p["hazard"], p["horizon"]
    held = lam * (1.0 - math.exp(-h * t)) / h
    given = f"λ = {_fmt(lam)}/day, h = {_fmt(h)}/day, T = {_fmt(t)} days"
    m_held, se_held, n = mean_se(o["held_at_end"] for o in outs)
    m_died, se_died, _ = mean_se(o["died"] for o in outs)
    return [
        judge(
            "held_at_horizon",
            "death hazard, no exchanges: held at T",
            f"E[held(T)] = λ(1 − e^(−hT))/h; {given}",
            held,
            m_held,
            se=se_held,
            n=n,
        ),
        judge(
            "died_by_horizon",
            "death hazard, no exchanges: died by T",
            f"E[died(T)] = λT − λ(1 − e^(−hT))/h; {given}",
            lam * t - held,
            m_died,
            se=se_died,
            n=n,
        ),
    ]


LITTLE = {"rate": 2.0, "hazard": 0.05, "horizon": 1000.0}


def area_under_held(t_in: np.ndarray, t_out: np.ndarray, horizon: float) -> float:
    """∫₀ᵀ N(t) dt from the step function N(t) (a sweep over entries and exits)."""
    times = np.concatenate([t_in, t_out[t_out <= horizon], [horizon]])
    steps = np.concatenate([np.ones(len(t_in)), -np.ones(int((t_out <= horizon).sum())), [0.0]])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(steps[order])
    return float(np.sum(level[:-1] * np.diff(times)))


def check_little(
    reps: int, seed: int = DEFAULT_SEED, world: Mapping[str, Any] | None = None, **params: Any
) -> list[CheckResult]:
    """Little's law L = λW: exactly on every run (area under N(t) against arrivals × mean
    days held, computed independently), and in expectation over a finite horizon."""
    p, w = _params(LITTLE, params, world)
    scn = loads_scenario(quiet_world(w["rate"], w["horizon"], w["hazard"]))
    t = float(w["horizon"])
    gaps, ls, ws = [], [], []
    for r in range(reps):
        res = run_one(scn, seed, r, keep_prisoners=True)
        pr = res.prisoners
        area = area_under_held(pr["t_cap"], pr["t_exit"], t)
        big_l = area / t
        arrivals = res.outcomes["captured"] / t
        big_w = res.outcomes["mean_days_held"]
        gaps.append(abs(big_l - arrivals * big_w) / max(big_l, 1e-300))
        ls.append(big_l)
        ws.append(big_w)
    lam, h, horizon = p["rate"], p["hazard"], p["horizon"]
    factor = 1.0 - (1.0 - math.exp(-h * horizon)) / (h * horizon)
    given = f"λ = {_fmt(lam)}/day, h = {_fmt(h)}/day, T = {_fmt(horizon)} days"
    m_l, se_l, n = mean_se(ls)
    m_w, se_w, _ = mean_se(ws)
    return [
        judge(
            "little_identity",
            "Little's law on every run: largest relative gap",
            "L̄ = λ̂ W̄: (1/T)∫N(t)dt = (captured/T) × mean days held",
            0.0,
            max(gaps),
            n=n,
            band=(-1e-9, 1e-9),
            band_why="exact accounting identity: only floating-point rounding allowed",
        ),
        judge(
            "little_L",
            "Little's law: time-average number held",
            f"E[L̄] = (λ/h)(1 − (1 − e^(−hT))/(hT)) → λ/h in the steady state; {given}",
            lam / h * factor,
            m_l,
            se=se_l,
            n=n,
        ),
        judge(
            "little_W",
            "Little's law: mean days held",
            f"E[W̄] = (1/h)(1 − (1 − e^(−hT))/(hT)) → 1/h in the steady state; {given}",
            factor / h,
            m_w,
            se=se_w,
            n=n,
        ),
    ]


CONCESSION = {"deadline": 100.0, "delay": 1.0}
CONCESSION_CASES = (("linear", 1.0, 0.2), ("boulware", 0.2, 0.0), ("conceder", 5.0, 0.1))


def check_concession(
    reps: int = 1, seed: int = DEFAULT_SEED, world: Mapping[str, Any] | None = None, **params: Any
) -> list[CheckResult]:
    """Two time-dependent agents over a linear split agree when their aspirations sum to 1.
    ``world`` may also set ``e`` (the simulated exponent of every case)."""
    defaults = {**CONCESSION, "e": None}
    p, w = _params(defaults, params, world)
    out = []
    for name, e, r in CONCESSION_CASES:
        e_sim = w["e"] if w["e"] is not None else e
        strategy = f"{{name: {name}, e: {e_sim}}}"
        text = split_world(
            strategy, strategy, delay=w["delay"], deadline=w["deadline"], reservation=r
        )
        tk = _first_talks(run_one(loads_scenario(text), seed, 0))
        took = tk["closed"] - tk["opened"] if tk["outcome"] == "agreed" else math.nan
        d = p["delay"]
        out.append(
            judge(
                f"concession_{name}",
                f"time-dependent concession ({name}, e = {_fmt(e)}, r = {_fmt(r)}): "
                "days to agreement",
                f"t* = T (1/(2(1 − r)))^e; T = {_fmt(p['deadline'])} days",
                agreement_time(p["deadline"], r, e),
                took,
                band=(0.0, 2 * d),
                band_why=f"deterministic (fixed {_fmt(d)}-day relays); agents act only when an "
                f"offer arrives, so agreement comes within one round (offer and reply, "
                f"{_fmt(2 * d)} days) after t*",
                note=f"outcome {tk['outcome']}, {tk['rounds']} relays",
            )
        )
    return out


RUBINSTEIN = {"count": 1000}
RUBINSTEIN_CASES = ((0.95, 0.90, 2.0), (0.90, 0.99, 1.0))


def check_rubinstein(
    reps: int = 1, seed: int = DEFAULT_SEED, world: Mapping[str, Any] | None = None, **params: Any
) -> list[CheckResult]:
    """Subgame-perfect alternating offers with per-day discount factors δ1 (first mover) and
    δ2 and relay delay d: the first offer is accepted and gives the first mover
    (1 − δ2^d)/(1 − δ1^d δ2^d). ``world`` may set ``delta1``/``delta2`` (simulated only)."""
    defaults = {**RUBINSTEIN, "delta1": None, "delta2": None}
    p, w = _params(defaults, params, world)
    out = []
    for i, (d1, d2, d) in enumerate(RUBINSTEIN_CASES, 1):
        s1 = w["delta1"] if w["delta1"] is not None else d1
        s2 = w["delta2"] if w["delta2"] is not None else d2
        count = int(w["count"])
        text = split_world(
            "rubinstein",
            "rubinstein",
            delay=d,
            deadline=1000.0,
            count=count,
            extra_a=f"discount: {s1}",
            extra_b=f"discount: {s2}",
        )
        res = run_one(loads_scenario(text), seed, 0)
        tk = _first_talks(res)
        share = math.nan
        if tk["outcome"] == "agreed" and tk["rounds"] == 1 and res.deals:
            moved = {(h, nat): k for h, nat, _, k in res.deals[0]["transfers"]}
            # a's normalised value: (its people back − prisoners it frees + count) / (2 count)
            share = (count + moved.get(("b", "a"), 0) - moved.get(("a", "b"), 0)) / (2 * count)
        units = 2 * int(p["count"])
        out.append(
            judge(
                f"rubinstein_{i}",
                f"Rubinstein alternating offers (δ1 = {_fmt(d1)}, δ2 = {_fmt(d2)} per day, "
                f"{_fmt(d)}-day relays): first mover's share",
                "x1 = (1 − δ2^d)/(1 − δ1^d δ2^d), agreed on the first offer",
                rubinstein_share(d1**d, d2**d),
                share,
                band=(-1.0 / units, 1.0 / units),
                band_why=f"deterministic; offers are whole prisoners ({units} units on the "
                f"agenda), rounded in the proposer's favour: within 1/{units}",
                note=f"outcome {tk['outcome']} after {tk['rounds']} relay(s)",
            )
        )
    return out


ATTRITION = {"cost1": 4.0, "prize1": 20.0, "cost2": 2.0, "prize2": 20.0, "delay": 0.1}


def check_attrition(
    reps: int, seed: int = DEFAULT_SEED, world: Mapping[str, Any] | None = None, **params: Any
) -> list[CheckResult]:
    """War of attrition: each side concedes at constant hazard c/V, so the first concession
    comes after an exponential time with rate Σ c_i/V_i; the talks end one relay or two later.
    Also who concedes first: party 1 with probability (c1/V1)/(c1/V1 + c2/V2)."""
    p, w = _params(ATTRITION, params, world)
    text = split_world(
        f"{{name: attrition, cost: {w['cost1']}, prize: {w['prize1']}}}",
        f"{{name: attrition, cost: {w['cost2']}, prize: {w['prize2']}}}",
        delay=w["delay"],
        deadline=10000.0,
        count=10,
        horizon=2000.0,
    )
    scn = loads_scenario(text)
    times, a_first = [], []
    for r in range(reps):
        res = run_one(scn, seed, r)
        tk = _first_talks(res)
        agreed = tk["outcome"] == "agreed" and bool(res.deals)
        times.append(tk["closed"] - tk["opened"] if agreed else math.inf)
        # the side that conceded is the one handing prisoners over
        a_first.append(float(agreed and res.deals[0]["transfers"][0][0] == "a"))
    r1, r2 = p["cost1"] / p["prize1"], p["cost2"] / p["prize2"]
    d = p["delay"]
    given = (
        f"c1/V1 = {_fmt(p['cost1'])}/{_fmt(p['prize1'])}, c2/V2 = {_fmt(p['cost2'])}/"
        f"{_fmt(p['prize2'])}"
    )
    m_t, se_t, n = mean_se(times)
    m_a, _, _ = mean_se(a_first)
    share = r1 / (r1 + r2)
    # both concede within one round of each other: who shows first is then blurred
    close = 1.0 - (r1 * math.exp(-r2 * 2 * d) + r2 * math.exp(-r1 * 2 * d)) / (r1 + r2)
    return [
        judge(
            "attrition_time",
            "war of attrition: days to the first concession",
            f"E[τ] = 1/(c1/V1 + c2/V2); {given}",
            1.0 / (r1 + r2),
            m_t,
            se=se_t,
            n=n,
            band=(0.0, 2 * d),
            band_why=f"a concession shows when that side next answers an offer: within one "
            f"round (offer and reply, {_fmt(2 * d)} days) with {_fmt(d)}-day relays",
            why=STOCHASTIC_WHY,
        ),
        judge(
            "attrition_first",
            "war of attrition: share of runs where party 1 concedes first",
            f"P(1 first) = (c1/V1)/(c1/V1 + c2/V2); {given}",
            share,
            m_a,
            se=math.sqrt(share * (1 - share) / n),
            n=n,
            why=STOCHASTIC_WHY + " (binomial SE at the theoretical share); rounds blur who "
            f"was first only when both concede within one round: {100 * close:.1g}% of runs",
        ),
    ]


@dataclass(frozen=True)
class Check:
    """A check function with its replications (full and quick)."""

    name: str
    fn: Callable[..., list[CheckResult]]
    full: int
    quick: int
    what: str = ""


CHECKS: tuple[Check, ...] = (
    Check("poisson", check_poisson, 2000, 400, "Poisson capture counts"),
    Check("held", check_held, 2000, 400, "deaths in captivity, no exchanges"),
    Check("little", check_little, 300, 60, "Little's law"),
    Check("concession", check_concession, 1, 1, "time-dependent concession"),
    Check("rubinstein", check_rubinstein, 1, 1, "Rubinstein alternating offers"),
    Check("attrition", check_attrition, 3000, 600, "war of attrition"),
)


def run_checks(
    quick: bool = False,
    seed: int = DEFAULT_SEED,
    only: Iterable[str] | None = None,
    progress: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run every check (or those named in ``only``); ``quick`` uses fewer replications."""
    wanted = set(only) if only is not None else None
    if wanted is not None and wanted - {c.name for c in CHECKS}:
        unknown = ", ".join(sorted(wanted - {c.name for c in CHECKS}))
        raise ValueError(f"unknown check(s): {unknown}")
    results: list[CheckResult] = []
    for check in CHECKS:
        if wanted is not None and check.name not in wanted:
            continue
        t0 = time.perf_counter()
        rows = check.fn(check.quick if quick else check.full, seed=seed)
        per = (time.perf_counter() - t0) / len(rows)
        for row in rows:
            row.seconds = per
            results.append(row)
            if progress is not None:
                progress(row)
    return results


def format_result(r: CheckResult) -> str:
    """A block of lines: verdict and name, theory, simulated, tolerance and why."""
    verdict = "PASS" if r.passed else "FAIL"
    lines = [f"{verdict}  {r.name}: {r.title}"]
    lines.append(f"      theory     {r.formula}  =  {_fmt(r.expected)}")
    ci = r.interval
    count = f"{r.n:,} replications" if r.n > 1 else "1 run"
    if ci is None:
        sim = f"{_fmt(r.simulated)} (exact)   ({count}"
    else:
        sim = (
            f"{_fmt(r.simulated)}   95% interval [{_fmt(ci[0])}, {_fmt(ci[1])}]   ({count}, "
            f"{r.z:+.2f} SE from theory"
        )
    note = f"; {r.note}" if r.note else ""
    lines.append(f"      simulated  {sim}{note})")
    lines.append(f"      tolerance  {r.tolerance}")
    if r.why:
        lines.append(f"      why        {r.why}")
    return "\n".join(lines)


def summary_line(results: list[CheckResult], seconds: float) -> str:
    passed = sum(r.passed for r in results)
    failed = [r.name for r in results if not r.passed]
    tail = "" if not failed else f"; FAILED: {', '.join(failed)}"
    return f"{passed} of {len(results)} checks passed in {seconds:.1f} s{tail}"
