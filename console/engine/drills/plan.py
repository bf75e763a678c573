"""What a drill is: which failure modes, on which functions, cured by which runbooks, when.

Independent of the fleet: a target (the demo's failures, or a replayed incident's) says
which function shows each mode; :func:`plan_drill` picks from it with a seeded random
generator, so ``--seed N`` plays the same drill again.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from console.errors import UserError

__all__ = ["DELAY_S", "DrillPlan", "plan_drill"]

#: A failure begins this many seconds after the drill starts (seeded within the range).
DELAY_S = (20.0, 120.0)


@dataclass(frozen=True, slots=True)
class DrillPlan:
    """One drill: the hidden modes, the function each shows on, its cures, its moment."""

    scenario: str
    modes: tuple[str, ...]
    #: Mode → the function that shows it.
    functions: Mapping[str, str]
    #: Mode → the runbooks that cure it (the catalog's, by ``failure_modes``).
    runbooks: Mapping[str, tuple[str, ...]]
    seed: int
    #: Seconds after the start when the failures begin.
    delay_s: float
    #: What fleet it runs on (``demo``, or ``replay INC-0042``).
    fleet: str = "demo"


def plan_drill(
    scenario: str,
    seed: int | None,
    targets: Mapping[str, str],
    runbooks: Mapping[str, Sequence[str]],
    *,
    fleet: str = "demo",
    delay_s: tuple[float, float] = DELAY_S,
) -> DrillPlan:
    """The drill ``scenario`` asks for: ``random`` (one mode the target can show), one mode
    (``F3``) or a combination (``F1,F9``).

    Raises:
        UserError: a mode the target cannot show, or an empty scenario.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(1, 2**31)
    rng = random.Random(seed)
    known = sorted(targets, key=lambda m: (len(m), m))
    if not known:
        raise UserError("this fleet has no failure to drill on")
    text = scenario.strip()
    if text.lower() == "random":
        modes: tuple[str, ...] = (rng.choice(known),)
    else:
        modes = tuple(dict.fromkeys(w.strip().upper() for w in text.split(",") if w.strip()))
        if not modes:
            raise UserError("--scenario: expected random, a mode like F3, or F1,F9")
        unknown = [m for m in modes if m not in targets]
        if unknown:
            raise UserError(
                f"--scenario: {', '.join(unknown)} cannot be drilled here (use random or "
                f"{', '.join(known)})"
            )
    lo, hi = delay_s
    delay = round(lo + (hi - lo) * rng.random(), 1)
    return DrillPlan(
        scenario=text if text.lower() != "random" else "random",
        modes=modes,
        functions={m: targets[m] for m in modes},
        runbooks={m: tuple(runbooks.get(m, ())) for m in modes},
        seed=seed,
        delay_s=delay,
        fleet=fleet,
    )
