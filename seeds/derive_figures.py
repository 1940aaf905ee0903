"""Derive the figures quoted in seeds/*.md from seeds/data/*.csv (standard library only).

Run: python seeds/derive_figures.py

Definitions (also stated in seeds/ua_ru_2022_2024.md):
- an "exchange row" is a row of ua_ru_exchanges.csv whose kind is not "bodies", that is not the
  aborted 2024-01-24 swap (0/0, notes "ABORTED") and not the unilateral 2023-03-24 handover
  (notes "UNILATERAL");
- an "event" is one calendar date with at least one exchange row (rows of the same date merged,
  counts summed);
- a "gap" is the number of days between two consecutive event dates; it is assigned to the year
  of the later event;
- a "freeze" is a gap of more than 60 days;
- quantiles use statistics.quantiles(method="inclusive") (linear interpolation, same as numpy's
  default); medians use statistics.median.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
FREEZE_DAYS = 60


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def num(value: str) -> int | None:
    value = value.strip()
    return int(value) if value else None


def quants(values: list[int]) -> str:
    if not values:
        return "n=0"
    vs = sorted(values)
    if len(vs) >= 2:
        q = statistics.quantiles(vs, n=4, method="inclusive")
        d = statistics.quantiles(vs, n=10, method="inclusive")
        spread = f"p10={d[0]:g} p25={q[0]:g} p75={q[2]:g} p90={d[8]:g}"
    else:
        spread = ""
    return (
        f"n={len(vs)} min={vs[0]} median={statistics.median(vs):g} "
        f"mean={statistics.mean(vs):.1f} max={vs[-1]} {spread} sum={sum(vs)}"
    )


def mediator_class(text: str) -> str:
    t = text.strip()
    if t.startswith("direct"):
        return "direct"
    if t.startswith("UAE"):
        return "UAE"
    return t


def main() -> None:
    rows = read("ua_ru_exchanges.csv")
    print(f"ua_ru_exchanges.csv rows: {len(rows)}")
    kept = [
        r
        for r in rows
        if r["kind"] != "bodies"
        and not r["notes"].startswith("ABORTED")
        and not r["notes"].startswith("UNILATERAL")
    ]
    excluded = [r["date"] + " " + r["kind"] for r in rows if r not in kept]
    print(f"exchange rows kept: {len(kept)}; excluded: {excluded}")

    # merge same-date rows into events
    events: dict[date, dict[str, int | None]] = {}
    for r in kept:
        d = date.fromisoformat(r["date"])
        ev = events.setdefault(d, {"ua": None, "ru": None, "rows": 0})
        for key, col in (("ua", "returned_to_ukraine"), ("ru", "returned_to_russia")):
            v = num(r[col])
            if v is not None:
                ev[key] = (ev[key] or 0) + v
        ev["rows"] = (ev["rows"] or 0) + 1
    dates = sorted(events)
    print(f"events (distinct dates): {len(dates)}; first {dates[0]}, last {dates[-1]}")
    merged = [str(d) for d in dates if (events[d]["rows"] or 0) > 1]
    print(f"dates with more than one row: {merged}")

    by_year_events = Counter(d.year for d in dates)
    by_year_rows = Counter(r["date"][:4] for r in kept)
    print("events per year:", dict(sorted(by_year_events.items())))
    print("exchange rows per year:", dict(sorted(by_year_rows.items())))

    # gaps
    gaps = [(dates[i - 1], dates[i], (dates[i] - dates[i - 1]).days) for i in range(1, len(dates))]
    print("\nGAPS (days) between consecutive events")
    print("all:", quants([g for _, _, g in gaps]))
    for y in (2022, 2023, 2024):
        print(f"{y} (gap ends in {y}):", quants([g for _, b, g in gaps if b.year == y]))
    print(f"freezes (gap > {FREEZE_DAYS} days):")
    for a, b, g in gaps:
        if g > FREEZE_DAYS:
            print(f"  {a} -> {b}: {g} days")
    print("gap list:", [g for _, _, g in gaps])

    # sensitivity: merge events 1-2 days apart into one episode
    episodes: list[date] = []
    for d in dates:
        if episodes and (d - episodes[-1]).days <= 2:
            continue
        episodes.append(d)
    ep_gaps = [(episodes[i] - episodes[i - 1]).days for i in range(1, len(episodes))]
    print(f"\nsensitivity: episodes (events <=2 days after previous merged): {len(episodes)}")
    print("episode gaps all:", quants(ep_gaps))
    for y in (2022, 2023, 2024):
        yg = [
            (episodes[i] - episodes[i - 1]).days
            for i in range(1, len(episodes))
            if episodes[i].year == y
        ]
        print(f"episode gaps {y}:", quants(yg))

    # sizes
    print("\nSIZES: returned_to_ukraine per event (events with a count)")
    for y in (2022, 2023, 2024):
        vals = [v for d in dates if d.year == y and (v := events[d]["ua"]) is not None]
        print(f"{y}:", quants(vals))
    allv = [v for d in dates if (v := events[d]["ua"]) is not None]
    print("all:", quants(allv))
    print("2022+2023:", quants([v for d in dates if d.year < 2024 and (v := events[d]["ua"])]))
    print("events with no UA count:", [str(d) for d in dates if events[d]["ua"] is None])
    print("SIZES: returned_to_russia per event (events with a count)")
    for y in (2022, 2023, 2024):
        vals = [v for d in dates if d.year == y and (v := events[d]["ru"]) is not None]
        print(f"{y}:", quants(vals))

    # one-for-one
    print("\nONE-FOR-ONE among exchange rows with both counts")
    for y in ("2022", "2023", "2024", "all"):
        both = [
            r
            for r in kept
            if (y == "all" or r["date"].startswith(y))
            and num(r["returned_to_ukraine"]) is not None
            and num(r["returned_to_russia"]) is not None
        ]
        eq = [r for r in both if r["returned_to_ukraine"] == r["returned_to_russia"]]
        uneq = [
            f"{r['date']} {r['returned_to_ukraine']}:{r['returned_to_russia']}"
            for r in both
            if r not in eq
        ]
        print(f"{y}: {len(eq)}/{len(both)} equal; unequal: {uneq}")

    both_all = [
        r
        for r in kept
        if num(r["returned_to_ukraine"]) is not None and num(r["returned_to_russia"]) is not None
    ]
    near = [
        r
        for r in both_all
        if abs(int(r["returned_to_ukraine"]) - int(r["returned_to_russia"]))
        <= 0.05 * max(int(r["returned_to_ukraine"]), int(r["returned_to_russia"]))
    ]
    print(f"within 5% of one-for-one: {len(near)}/{len(both_all)}")
    # 2024-01-31 and 2024-12-30: Russia's MoD reported N-for-N (195/195, 150/150), Kyiv more
    ru_nfor_n = {"2024-01-31", "2024-12-30"}
    eq_ru = [
        r
        for r in both_all
        if r["returned_to_ukraine"] == r["returned_to_russia"] or r["date"] in ru_nfor_n
    ]
    print(
        f"equal if Russia's MoD figures are used for {sorted(ru_nfor_n)}: "
        f"{len(eq_ru)}/{len(both_all)}"
    )

    # mediators
    print("\nMEDIATORS (exchange rows)")
    med: dict[str, Counter[str]] = defaultdict(Counter)
    for r in kept:
        med[r["date"][:4]][mediator_class(r["mediator"])] += 1
    for y in sorted(med):
        print(y, dict(med[y]))

    # totals vs official cumulative
    print("\nTOTALS")
    for y in (2022, 2023, 2024):
        s = sum(v for d in dates if d.year == y and (v := events[d]["ua"]) is not None)
        print(f"sum returned_to_ukraine {y} (exchange rows): {s}")
    print("sum all years:", sum(allv))
    cum = read("ua_ru_cumulative.csv")
    last = cum[-1]
    print(
        f"official cumulative last: {last['date']} {last['ukrainians_returned_total']} "
        f"after {last['exchanges_count']} exchanges"
    )
    print("official exchange numbering vs events in the file up to the same date:")
    for r in cum:
        if r["exchanges_count"]:
            upto = sum(1 for d in dates if d <= date.fromisoformat(r["date"]))
            print(f"  {r['date']}: official {r['exchanges_count']}, file {upto}")
    c0807 = next(r for r in cum if r["date"] == "2023-08-07")
    print("3956 - total at 2023-08-07 =", 3956 - int(c0807["ukrainians_returned_total"]))
    print(f"mean returned per official exchange: {3956 / 60:.1f}")

    # UAE cross-check
    print("\nUAE cross-check: cumulative both sides from exchange rows (UAE-mediated, 2024)")
    uae = read("ua_ru_uae_mediation.csv")
    uae_cum = {r["date"]: r["uae_cumulative_captives_both_sides"] for r in uae}
    running = 0
    for r in kept:
        if mediator_class(r["mediator"]) == "UAE" and r["date"].startswith("2024"):
            running += (num(r["returned_to_ukraine"]) or 0) + (num(r["returned_to_russia"]) or 0)
            print(f"  {r['date']} running={running} UAE series={uae_cum.get(r['date'], '')}")

    # holdings
    print("\nHOLDINGS")
    for r in read("ua_ru_holdings.csv"):
        print(f"  {r['date']} {r['holder']} {r['held_count']} ({r['who_is_held']})")
    print(f"June 2024 ratio Russia/Ukraine: {6465 / 1348:.2f}")

    # DPRK
    print("\nDPRK")
    for r in read("dprk_kursk.csv"):
        print(f"  {r['date']} {r['metric']} {r['value']}")
    print(f"live captures per NIS casualty (2 / (300+2700)): {2 / 3000:.5f}")
    print(f"NIS casualties as share of ~11,000 deployed: {3000 / 11000:.3f}")
    print(f"killed share of NIS casualties: {300 / 3000:.3f}")

    seed_stocks()

    # contrast cases
    print("\nOTHER EXCHANGES")
    for r in read("other_exchanges.csv"):
        a, b = int(r["released_by_a"]), int(r["released_by_b"])
        print(
            f"  {r['date']} {r['conflict']}: {r['side_a']} {a} / {r['side_b']} {b} "
            f"ratio {a / b:.1f}:1 captivity={r['captivity_days'] or '-'}"
        )


# the seed date, and the capture rates of scenarios/ua_ru_2022_2024.yaml used to carry the June
# 2024 stocks forward to it (people per day: incidents per day x mean batch 5)
SEED_DATE = date(2025, 1, 13)
CLAIM_DATE = date(2024, 6, 1)  # Putin's early-June 2024 claims [HO 2024-06-01]
KURSK = (date(2024, 8, 6), date(2024, 8, 16))  # the incursion's first 10 days [HO 2024-08-21]
UA_TAKEN_PER_DAY = 10.0  # ua_by_russia from 2024-01-01: 2.0 x 5 (ASSUMPTION there)
RU_TAKEN_PER_DAY = (4.35, 6.0)  # ru_by_ukraine before / after the Kursk wave: 0.87 x 5, 1.2 x 5


def seed_stocks() -> None:
    """Prisoners each side held on 2025-01-13, from what was known then: the June 2024
    claims, less everyone returned in the exchanges since, plus captures since (the Kursk
    wave's 300 from its row, the rest at the 2022-2024 scenario's rates). Deaths in custody
    are not subtracted (about 2% over these seven months at that scenario's hazards)."""
    print("\nSTOCKS AT THE SEED DATE (scenarios/kursk_2025.yaml holdings)")
    held = {(r["holder"], r["date"]): int(r["held_count"]) for r in read("ua_ru_holdings.csv")}
    ua0, ru0 = held[("Russia", "2024-06-01")], held[("Ukraine", "2024-06-01")]
    back_ua = back_ru = 0
    for r in read("ua_ru_exchanges.csv"):
        day = date.fromisoformat(r["date"])
        if not (CLAIM_DATE < day <= SEED_DATE) or r["kind"] == "bodies":
            continue
        ua, ru = num(r["returned_to_ukraine"]), num(r["returned_to_russia"])
        ru_text = str(ru) if ru is not None else f"{ua} (not reported: taken as N-for-N)"
        print(f"  {r['date']} returned to Ukraine {ua}, to Russia {ru_text}")
        back_ua += ua or 0
        back_ru += ru if ru is not None else ua or 0
    days = (SEED_DATE - CLAIM_DATE).days
    taken_ua = UA_TAKEN_PER_DAY * days
    before = (KURSK[0] - CLAIM_DATE).days
    after = (SEED_DATE - KURSK[1]).days
    kursk = held[("Ukraine", "2024-08-21")]
    taken_ru = RU_TAKEN_PER_DAY[0] * before + kursk + RU_TAKEN_PER_DAY[1] * after
    print(f"  {days} days from {CLAIM_DATE} to {SEED_DATE}")
    print(
        f"  Russia holds Ukrainians: {ua0} - {back_ua} returned + {taken_ua:.0f} taken "
        f"({UA_TAKEN_PER_DAY:g}/day) = {ua0 - back_ua + taken_ua:.0f}"
    )
    print(
        f"  Ukraine holds Russians: {ru0} - {back_ru} returned + {taken_ru:.0f} taken "
        f"({RU_TAKEN_PER_DAY[0]:g}/day x {before} d + {kursk} in Kursk + "
        f"{RU_TAKEN_PER_DAY[1]:g}/day x {after} d) = {ru0 - back_ru + taken_ru:.0f}"
    )


if __name__ == "__main__":
    main()
