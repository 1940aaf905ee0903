"""A dated, readable story of one replication, from its event records and prisoner table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from sim.model.prisoners import DIED, REPATRIATED, RESETTLED
from sim.model.records import RunResult
from sim.scenario.schema import Scenario


def _who(transfers: list[Any]) -> str:
    parts = []
    for holder, nat, dest, n in transfers:
        if dest == nat:
            parts.append(f"{holder} frees {n} {nat}")
        else:
            parts.append(f"{holder} hands {n} {nat} to {dest} (asylum)")
    return "; ".join(parts) if parts else "nothing"


def _noun(scn: Scenario, stream_id: str, n: int) -> str:
    s = next(x for x in scn.capture_streams if x.id == stream_id)
    cats = list(s.categories)
    word = cats[0] if len(cats) == 1 else "prisoner"
    return word if n == 1 else (word[:-1] + "ies" if word.endswith("y") else word + "s")


def story(scn: Scenario, result: RunResult) -> list[tuple[float, str]]:
    """(day, sentence) pairs in time order."""
    lines: list[tuple[float, int, str]] = []
    for s in scn.capture_streams:
        inc = result.incidents.get(s.id)
        if inc is None:
            continue
        for t, taken, wounded, sd in zip(
            inc.t, inc.taken, inc.wounded, inc.self_destructed, strict=True
        ):
            if taken:
                text = f"{s.captor} captures {taken} {s.nationality} {_noun(scn, s.id, taken)}"
                if wounded:
                    text += f" ({wounded} wounded)"
                if sd:
                    text += f"; {sd} more die rather than be captured"
            else:
                text = f"{sd} {s.nationality} die rather than be captured by {s.captor}"
            lines.append((float(t), 0, text))
    p = result.prisoners
    if p:
        ids = scn.party_ids
        fate, t_exit = p["fate"], p["t_exit"]
        via_deal = p["t_deal"] == t_exit
        via_custody = p["t_cust"] == t_exit  # told by the custody events
        for code, verbs in (
            (DIED, ("dies in captivity held by", "die in captivity held by")),
            (REPATRIATED, ("released on humanitarian grounds by",) * 2),
            (RESETTLED, ("granted asylum by",) * 2),
        ):
            m = (fate == code) & (t_exit <= result.horizon) & ~via_custody
            if code != DIED:
                m &= ~via_deal
            if not m.any():
                continue
            day = np.floor(t_exit[m])
            keys = np.stack([day, p["nat"][m], p["holder"][m]], axis=1)
            uniq, counts = np.unique(keys, axis=0, return_counts=True)
            for (d, nat, holder), n in zip(uniq, counts, strict=True):
                verb = verbs[0] if n == 1 else verbs[1]
                lines.append((float(d), 1, f"{n} {ids[int(nat)]} {verb} {ids[int(holder)]}"))
    for t, kind, data in result.events:
        lines.append((t, 2, _event_text(kind, data)))
    lines.sort(key=lambda x: (x[0], x[1]))
    return [(t, text) for t, _, text in lines]


def _event_text(kind: str, d: dict[str, Any]) -> str:
    tk = d.get("talks")
    if kind == "open":
        others = [p for p in d["parties"] if p != d["initiator"]]
        via = "directly" if d["channel"] == "direct" else f"via {d['channel']}"
        return f"{d['initiator']} opens talks #{tk} with {' and '.join(others)} {via}"
    if kind == "offer":
        if d["channel"] == "direct":
            return f"{d['by']} offers directly (talks #{tk}): {_who(d['transfers'])}"
        return f"{d['channel']} relays {d['by']}'s offer (talks #{tk}): {_who(d['transfers'])}"
    if kind == "lost":
        return f"{d['channel']} fails to deliver {d['by']}'s offer (talks #{tk}); round lost"
    if kind == "refused":
        return (
            f"{d['party']} refuses talks #{tk}: it does not acknowledge "
            f"{d['nationality']} prisoners"
        )
    if kind == "agreed":
        return f"deal #{d['deal']} agreed in talks #{tk}: {_who(d['transfers'])}"
    if kind == "collapsed":
        return f"deal #{d['deal']} collapses before execution"
    if kind == "executed":
        return f"deal #{d['deal']} executed: {_who(d['transfers'])}"
    if kind == "stage":
        return f"deal #{d['deal']} stage {d['stage']} of {d['of']}: {_who(d['transfers'])}"
    if kind == "custody":
        handed = "; ".join(f"{holder} hands {n} {nat}" for holder, nat, n in d["handed"])
        return (
            f"neutral custody {d['custody']} ({d['custodian']}): {handed} who refuse to go home, "
            f"for an explanation period to day {d['until']:.1f}"
        )
    if kind == "custody_end":
        parts = [f"{d['home']} go home", f"{d['stayed']} stay"]
        parts += [f"{n} go to {dest}" for dest, n in d["resettled"]]
        if d["died"]:
            parts.append(f"{d['died']} died in custody")
        return f"neutral custody {d['custody']} ends for {d['handed']}: " + ", ".join(parts)
    if kind == "remains":
        moved = "; ".join(
            f"{holder} hands over {n} {nat} remains" for holder, nat, n in d["transfers"]
        )
        how = f"with deal #{d['deal']}" if d.get("deal") is not None else "repatriation of remains"
        return f"{how}: {moved}"
    if kind == "breakdown":
        return f"talks #{tk} break down"
    if kind == "deadline":
        return f"talks #{tk} end: a party's deadline passed"
    if kind == "exhausted":
        return f"talks #{tk} abandoned after the maximum number of rounds"
    if kind == "no_channel":
        return f"{' and '.join(d['parties'])} cannot start talks: no channel connects them"
    if kind == "channel_busy":
        return (
            f"{' and '.join(d['parties'])} cannot start talks: "
            f"{', '.join(d['intermediaries'])} busy"
        )
    if kind == "timeline":
        return f"timeline: {d['note']}"
    if kind == "format":
        why = f" ({d['note']})" if d.get("note") else ""
        return f"format {d['format']}: {d['left']} -> {d['entered']}{why}"
    return f"{kind} {d}"


def format_story(scn: Scenario, result: RunResult, limit: int | None = None) -> str:
    out = []
    for t, text in story(scn, result)[: limit or None]:
        date = scn.start_date + dt.timedelta(days=int(np.floor(t)))
        out.append(f"{date.isoformat()}  (day {t:7.1f})  {text}")
    return "\n".join(out)
