"""Verdicts of the theory suite: one simulated quantity judged against its closed form.

Owns ``CheckResult``, the rule that passes or fails it (``judge``), the mean and standard
error of replications (``mean_se``) and the text ``pxsim check`` prints (``format_result``,
``summary_line``, and the number formatting they share with the checks' labels).

Tolerances are stated with each result. A deterministic check (fixed delays, no randomness in
what is measured) must land within the model's discretisation: one round of offers, or one
prisoner of rounding. A stochastic check passes when ``|simulated − theory| < 4 SE`` (SE the
standard error over seeded replications): a false alarm about 1 in 16,000 per check. Where the
protocol adds a known bounded bias (agents act only when an offer arrives), the band
``[theory + lo, theory + hi]`` widened by ``4 SE`` is used instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile
K_SE = 4.0  # stochastic checks: |sim - theory| < 4 SE
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
    rule = _rule(se, band, lo, hi)
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


def _rule(se: float, band: tuple[float, float], lo: float, hi: float) -> str:
    """The tolerance of ``judge`` in words and numbers (``lo``, ``hi``: the accepted range)."""
    width = f"4 SE = {fmt(K_SE * se, 3)}"
    if se > 0 and band == (0.0, 0.0):
        return f"|sim − theory| < {width}"
    if se > 0:
        return (
            f"sim in [theory{_plus(band[0])}, theory{_plus(band[1])}] widened by {width}: "
            f"[{fmt(lo, 4)}, {fmt(hi, 4)}]"
        )
    if band[0] == -band[1]:
        return f"|sim − theory| ≤ {fmt(band[1], 3)}"
    return f"theory{_plus(band[0])} ≤ sim ≤ theory{_plus(band[1])}"


def mean_se(x: Iterable[float]) -> tuple[float, float, int]:
    """Mean, its standard error (inf for a single value) and the count of ``x``."""
    a = np.asarray(list(x), dtype=float)
    n = len(a)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf, n


def fmt(v: float, sig: int = 5) -> str:
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
    """`` + v`` / `` − |v|`` for a band edge; empty for 0."""
    if v == 0:
        return ""
    return f" + {fmt(v, 3)}" if v > 0 else f" − {fmt(-v, 3)}"


def format_result(r: CheckResult) -> str:
    """A block of lines: verdict and name, theory, simulated, tolerance and why."""
    verdict = "PASS" if r.passed else "FAIL"
    lines = [f"{verdict}  {r.name}: {r.title}"]
    lines.append(f"      theory     {r.formula}  =  {fmt(r.expected)}")
    ci = r.interval
    count = f"{r.n:,} replications" if r.n > 1 else "1 run"
    if ci is None:
        sim = f"{fmt(r.simulated)} (exact)   ({count}"
    else:
        sim = (
            f"{fmt(r.simulated)}   95% interval [{fmt(ci[0])}, {fmt(ci[1])}]   ({count}, "
            f"{r.z:+.2f} SE from theory"
        )
    note = f"; {r.note}" if r.note else ""
    lines.append(f"      simulated  {sim}{note})")
    lines.append(f"      tolerance  {r.tolerance}")
    if r.why:
        lines.append(f"      why        {r.why}")
    return "\n".join(lines)


def summary_line(results: list[CheckResult], seconds: float) -> str:
    """The last line: how many passed, in how long, and which failed."""
    passed = sum(r.passed for r in results)
    failed = [r.name for r in results if not r.passed]
    tail = "" if not failed else f"; FAILED: {', '.join(failed)}"
    return f"{passed} of {len(results)} checks passed in {seconds:.1f} s{tail}"
