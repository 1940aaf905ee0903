"""Shared fixtures: where the repository and its shipped scenarios are, loaded scenarios, a toy
two-party world as YAML text, and the browser the rendering tests need.

Browser tests call the ``chromium`` fixture (or ``render_page``, which renders a page with it).
Without Chromium they are skipped, unless ``PXSIM_REQUIRE_BROWSER=1`` is set (as in CI): then
they fail, saying how to install it, so that a CI machine without a browser cannot pass them
silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# Two parties, a and b, each holding 20 of the other's people and talking directly: a takes the
# initiative every 5 days, deals never collapse and talks never break down, so deals happen.
TOY_SCENARIO = """\
name: toy
start_date: 2025-01-01
horizon: 200
seed: 3
replications: 4
parties:
  - id: a
    direct_channels: [b]
    initiative: {dist: fixed, value: 5}
    norms: {one_for_one: true}
  - id: b
    initiative: null
    norms: {one_for_one: true}
holdings:
  - {holder: a, nationality: b, count: 20}
  - {holder: b, nationality: a, count: 20}
capture_streams:
  - {id: a_takes_b, captor: a, nationality: b, rate: 0.2}
  - {id: b_takes_a, captor: b, nationality: a, rate: 0.2}
captivity:
  death_hazard: {healthy: 0.002, wounded: 0.01}
negotiation:
  collapse: 0.0
  breakdown_risk: 0.0
  preparation: {dist: fixed, value: 2}
  cooldown: {dist: fixed, value: 10}
"""


# ---------------------------------------------------------------------- paths
@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory."""
    return ROOT


@pytest.fixture(scope="session")
def scenario_path() -> Callable[[str], Path]:
    """``scenario_path("kursk_2025")``: the path of a shipped scenario (which must exist)."""

    def path(name: str) -> Path:
        p = SCENARIOS / f"{name}.yaml"
        assert p.is_file(), f"no shipped scenario {p}"
        return p

    return path


@pytest.fixture(scope="session")
def shipped_scenarios() -> list[Path]:
    """Every ``scenarios/*.yaml``, sorted."""
    return sorted(SCENARIOS.glob("*.yaml"))


@pytest.fixture(scope="session")
def minimal_path(scenario_path: Callable[[str], Path]) -> Path:
    return scenario_path("minimal")


@pytest.fixture(scope="session")
def kursk_path(scenario_path: Callable[[str], Path]) -> Path:
    return scenario_path("kursk_2025")


# ---------------------------------------------------------------------- scenarios
@pytest.fixture(scope="session")
def minimal_scenario(minimal_path: Path) -> Scenario:
    """``scenarios/minimal.yaml``, loaded once (a Scenario is frozen: safe to share)."""
    return load_scenario(minimal_path)


@pytest.fixture(scope="session")
def kursk_scenario(kursk_path: Path) -> Scenario:
    return load_scenario(kursk_path)


@pytest.fixture(scope="session")
def toy_scenario_text() -> str:
    """A small two-party world as YAML text (see ``TOY_SCENARIO``)."""
    return TOY_SCENARIO


@pytest.fixture(scope="session")
def toy_scenario(toy_scenario_text: str) -> Scenario:
    return loads_scenario(toy_scenario_text)


# ---------------------------------------------------------------------- the browser
REQUIRE_BROWSER = "PXSIM_REQUIRE_BROWSER"


def require_chromium() -> str:
    """The path of Chromium; without it, skip the test, or fail it if ``PXSIM_REQUIRE_BROWSER=1``
    (CI sets it, so that the browser tests cannot be skipped there without anyone noticing)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is not None:
        return browser
    if os.environ.get(REQUIRE_BROWSER) == "1":
        pytest.fail(
            f"Chromium is not installed, and {REQUIRE_BROWSER}=1 requires the browser tests to "
            "run: install it (Debian/Ubuntu: `sudo apt-get install chromium`; elsewhere any "
            "Chromium whose command is `chromium` or `chromium-browser` on PATH), or unset "
            f"{REQUIRE_BROWSER} to skip these tests",
            pytrace=False,
        )
    pytest.skip(f"Chromium is not installed (set {REQUIRE_BROWSER}=1 to make this a failure)")


@pytest.fixture
def chromium() -> str:
    """The path of Chromium (see ``require_chromium``)."""
    return require_chromium()


def render_html(browser: str, html: Path, profile: Path, *options: str) -> str:
    """The DOM of ``html`` after headless Chromium loaded it (``profile``: a fresh directory)."""
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            *options,
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture
def render_page(chromium: str) -> Callable[..., str]:
    """``render_page(html, profile, *chromium_options)``: the DOM after Chromium loaded it."""

    def render(html: Path, profile: Path, *options: str) -> str:
        return render_html(chromium, html, profile, *options)

    return render
