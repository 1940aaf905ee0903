"""Probability distributions as tagged mappings (``{dist: exponential, mean: 14}``).

Each distribution is a frozen pydantic model with ``sample(rng, size)`` returning a float
array (vectorised: callers draw in blocks, never one number per call in a hot loop) and
``mean()``. The ``dist`` tag selects the class; parameters are validated with ranges.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = np.ndarray


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        raise NotImplementedError

    def mean(self) -> float:
        raise NotImplementedError

    def sample_one(self, rng: np.random.Generator) -> float:
        return float(self.sample(rng, 1)[0])


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: float = Field(ge=0, description="the value")

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value, dtype=float)

    def mean(self) -> float:
        return self.value


class Exponential(_Dist):
    """Exponential with the given mean (rate 1/mean)."""

    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0, description="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_, size)

    def mean(self) -> float:
        return self.mean_


class Lognormal(_Dist):
    """Lognormal given by the mean and standard deviation of the value itself (not of its log)."""

    dist: Literal["lognormal"]
    mean_: float = Field(alias="mean", gt=0, description="mean of the value")
    sd: float = Field(gt=0, description="standard deviation of the value")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def _mu_sigma(self) -> tuple[float, float]:
        s2 = float(np.log1p((self.sd / self.mean_) ** 2))
        return float(np.log(self.mean_) - s2 / 2), float(np.sqrt(s2))

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        mu, sigma = self._mu_sigma()
        return rng.lognormal(mu, sigma, size)

    def mean(self) -> float:
        return self.mean_


class Gamma(_Dist):
    """Gamma with shape and mean (scale = mean/shape)."""

    dist: Literal["gamma"]
    shape: float = Field(gt=0, description="shape k")
    mean_: float = Field(alias="mean", gt=0, description="mean (k times scale)")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.gamma(self.shape, self.mean_ / self.shape, size)

    def mean(self) -> float:
        return self.mean_


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be at least low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        return (self.low + self.high) / 2


class Poisson(_Dist):
    """Poisson counts with the given mean; ``shift`` is added (shift 1: batches of at least 1)."""

    dist: Literal["poisson"]
    mean_: float = Field(alias="mean", ge=0, description="mean of the Poisson part")
    shift: int = Field(default=0, ge=0, description="added to every draw")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.poisson(self.mean_, size).astype(float) + self.shift

    def mean(self) -> float:
        return self.mean_ + self.shift


class Geometric(_Dist):
    """Geometric counts on 1, 2, 3, ... with the given mean (success probability 1/mean)."""

    dist: Literal["geometric"]
    mean_: float = Field(alias="mean", ge=1, description="mean, at least 1")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.geometric(1.0 / self.mean_, size).astype(float)

    def mean(self) -> float:
        return self.mean_


class Empirical(_Dist):
    """Resampling of observed values, optionally weighted."""

    dist: Literal["empirical"]
    values: list[float] = Field(min_length=1, description="observed values (each >= 0)")
    weights: list[float] | None = Field(default=None, description="relative weights, same length")

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        if any(v < 0 for v in self.values):
            raise ValueError("values must all be >= 0")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 and not all zero")
        return self

    def _p(self) -> FloatArray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())

    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())


Dist = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Uniform | Poisson | Geometric | Empirical,
    Field(discriminator="dist"),
]

# the one list of distributions: classes in the order the reference shows them, and their tags
DIST_CLASSES: tuple[type[_Dist], ...] = get_args(get_args(Dist)[0])
DIST_NAMES: tuple[str, ...] = tuple(
    get_args(c.model_fields["dist"].annotation)[0] for c in DIST_CLASSES
)


def fixed(value: float) -> Fixed:
    return Fixed(dist="fixed", value=value)
