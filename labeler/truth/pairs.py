"""Pairwise cases: which output is shown first, and values moved between shown positions and A/B.

A pairwise value is stored in terms of the case's own A and B. People and judges see positions
(output 1, output 2); which of A and B is shown first is decided here, so that position bias
averages out across annotators and cases while each annotator always sees a case the same way.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Order = Literal["AB", "BA"]
POSITION_MEANING = {"A": "output 1 is better", "B": "output 2 is better", "tie": "tie: as good as each other",
                    "both_bad": "both bad: neither is acceptable"}
"""What each pairwise point means by position (A: the output shown first), for people and judges alike."""
_SWAP = {"A": "B", "B": "A"}


def shown_order(annotator: str, case_id: str) -> Order:
    """The order `annotator` sees case `case_id` in: half the (annotator, case) pairs see B first.
    Deterministic, so reopening a case shows it the way it was labeled."""
    digest = hashlib.sha256(f"{annotator}\x00{case_id}".encode("utf-8", "surrogatepass")).digest()
    return "BA" if digest[0] & 1 else "AB"


def from_position(value, order: Order):
    """A value picked by position ("A": the first shown, "B": the second) in terms of the case's A and B.
    The same function maps a stored value to the position it was shown at (swapping is its own inverse)."""
    return _SWAP.get(value, value) if order == "BA" and isinstance(value, str) else value


def swap_values(values: dict, order: Order) -> dict:
    """`from_position` over a criterion -> value mapping."""
    return {c: from_position(v, order) for c, v in values.items()} if order == "BA" else dict(values)


def agreed(first: object, second: object) -> tuple[object, bool]:
    """A judge's two answers (both already in A/B terms): the value when they agree, else (None, inconsistent)."""
    if first is None or second is None:
        return None, False
    return (first, False) if first == second else (None, True)
