"""The seed scenario as audited (issue 10 §4): its values agree with the data known on
2025-01-13 and with the calibrated 2022–2024 scenario wherever they describe the same thing.

Each test fails on the scenario as it was before the audit (`git show 154a0ec:scenarios/
kursk_2025.yaml`): stocks from the June 2024 claims, 2 captures a day each way, a wounded death
hazard of 0.0005 a day, a guaranteeing UAE, a North Korea that acknowledged its troops.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario.loading import load_scenario
from sim.scenario.schema import CaptureStream, Scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kursk() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "kursk_2025.yaml")


@pytest.fixture(scope="module")
def ua_ru() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "ua_ru_2022_2024.yaml")


def held(scn: Scenario, holder: str, nationality: str) -> int:
    return sum(h.count for h in scn.holdings if (h.holder, h.nationality) == (holder, nationality))


def test_stocks_are_the_june_2024_claims_carried_to_the_seed_date(kursk: Scenario) -> None:
    """``seeds/derive_figures.py`` derives them from the rows; the scenario holds as many."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "seeds" / "derive_figures.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ua = re.search(r"Russia holds Ukrainians: 6465 - (\d+) returned \+ (\d+) taken .* = (\d+)", out)
    ru = re.search(r"Ukraine holds Russians: 1348 - (\d+) returned \+ (\d+) taken .* = (\d+)", out)
    assert ua and ru, out[-800:]
    assert ua.groups() == ("736", "2260", "7989")
    assert ru.groups() == ("697", "1487", "2138")
    assert held(kursk, "russia", "ukraine") == 7989
    assert held(kursk, "ukraine", "russia") == 2138
    assert held(kursk, "ukraine", "dprk") == 2  # [K: 2025-01-09 captured_alive 2]


def _people_per_day(stream: CaptureStream) -> tuple[float, float]:
    """Incidents a day in its last phase, and people per incident."""
    return stream.rate[-1].per_day, stream.batch.mean()


def test_capture_rates_are_the_2022_2024_scenarios_at_its_end(
    kursk: Scenario, ua_ru: Scenario
) -> None:
    k = {s.id: s for s in kursk.capture_streams}
    u = {s.id: s for s in ua_ru.capture_streams}
    assert _people_per_day(k["russia_takes_ukraine"]) == _people_per_day(u["ua_by_russia"])
    assert _people_per_day(k["ukraine_takes_russia"]) == _people_per_day(u["ru_by_ukraine"])
    rate, batch = _people_per_day(k["russia_takes_ukraine"])
    assert rate * batch == pytest.approx(10.0)  # Ukrainians taken a day
    rate, batch = _people_per_day(k["ukraine_takes_russia"])
    assert rate * batch == pytest.approx(6.0)  # Russians taken a day


def test_death_hazards_and_the_uae_as_in_the_2022_2024_scenario(
    kursk: Scenario, ua_ru: Scenario
) -> None:
    assert kursk.captivity.death_hazard == ua_ru.captivity.death_hazard
    assert kursk.intermediary("uae").guarantee is ua_ru.intermediary("uae").guarantee is False


def test_neither_russia_nor_north_korea_acknowledges_the_troops(kursk: Scenario) -> None:
    assert kursk.get("parties.russia.acknowledges.dprk") is False
    assert kursk.get("parties.dprk.acknowledges.dprk") is False
