"""Measure the text sanitiser over a refresh's worth of plugin data, against a floor.

    .venv/bin/python bench/bench_sanitize.py [N]

Builds N functions (default 10,000; seeded) the way the demo plugin does — ids, owners,
dependencies and four labels each — and their Signals, then times, best of 7:

* floor: one ``str.translate`` (the C0/C1 deletion table) over every one of those strings —
  the least any per-string cleaning could cost;
* clean_result on the function list and on the signals map — what ``Fleet._call`` adds to a
  refresh when nothing is hostile (the common case);
* the same with 1% of the functions carrying escape payloads (those are walked and rebuilt);
* clean_line over every string one by one;
* redaction of the ``status --json`` text (every JSON document the CLI prints is redacted
  as text, credential headers included), against ``json.dumps`` of the same document.

Prints absolute milliseconds and the ratio to the floor.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from console.core.model import SLO, Function, Signals
from console.core.redact import redact
from console.core.sanitize import clean_line, clean_result

PAYLOAD = "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x1b\\\x1b[2J"


def fleet(n: int, seed: int = 11) -> tuple[list[Function], dict[str, Signals]]:
    rng = random.Random(seed)
    teams = ["payments", "search", "identity", "platform", "growth", "storefront"]
    fns: list[Function] = []
    for i in range(n):
        svc = f"svc{i // 8:05d}"
        op = f"{rng.choice(['GET', 'POST', 'rpc'])} /op{i % 8}"
        team = teams[i % len(teams)]
        fns.append(
            Function(
                id=Function.make_id(svc, op),
                service=svc,
                operation=op,
                owner=team,
                oncall=f"{team}.oncall",
                tier=1 + i % 3,
                slo=SLO(),
                dependencies=tuple(f"svc{rng.randrange(n // 8 + 1):05d}:rpc Get" for _ in range(2)),
                labels={"env": "prod", "region": "eu-west-1", "team": team, "kind": "http"},
                source="bench",
            )
        )
    windows = ("5m", "30m", "1h", "6h", "3d", "30d")
    sig = {
        f.id: Signals(
            rate_rps=10.0,
            success_rate=0.999,
            error_ratio=dict.fromkeys(windows, 0.001),
            requests=dict.fromkeys(windows, 1000.0),
        )
        for f in fns
    }
    return fns, sig


def strings_of(fns: list[Function]) -> list[str]:
    out: list[str] = []
    for f in fns:
        out += [f.id, f.service, f.operation, f.owner or "", f.oncall or "", f.source]
        out += [*f.dependencies, *f.labels, *f.labels.values()]
    return out


def best_ms(fn: Callable[[], Any], repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000.0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    fns, sig = fleet(n)
    texts = strings_of(fns)
    table = str.maketrans(dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)]))
    floor = best_ms(lambda: [t.translate(table) for t in texts])
    rng = random.Random(5)
    dirty = [replace(f, owner=f"{f.owner}{PAYLOAD}") if rng.random() < 0.01 else f for f in fns]
    assert clean_result(fns) is fns and clean_result(sig) is sig
    assert all(clean_line(f.owner or "") == (f.owner or "").replace(PAYLOAD, "") for f in
               clean_result(dirty))  # fmt: skip
    rows = [
        ("floor: str.translate over every string", floor),
        ("clean_result(functions), clean", best_ms(lambda: clean_result(fns))),
        ("clean_result(signals), clean", best_ms(lambda: clean_result(sig))),
        ("clean_result(functions), 1% hostile", best_ms(lambda: clean_result(dirty))),
        ("clean_line over every string", best_ms(lambda: [clean_line(t) for t in texts])),
    ]
    print(f"{n:,} functions, {len(texts):,} strings (best of 7)")
    for name, ms in rows:
        print(f"  {name:<42} {ms:8.2f} ms   {ms / floor:5.2f}× floor")
    doc = {
        "functions": [
            {"id": f.id, "owner": f.owner, "labels": dict(f.labels), "signals": {"p99_ms": 12.5}}
            for f in fns
        ]
    }
    text = json.dumps(doc)
    dumps_ms = best_ms(lambda: json.dumps(doc))
    redact_ms = best_ms(lambda: redact(text))
    print(f"status-like JSON, {len(text) / 1e6:.1f} MB (best of 7)")
    print(f"  {'floor: json.dumps':<42} {dumps_ms:8.2f} ms")
    print(
        f"  {'redact(the JSON text)':<42} {redact_ms:8.2f} ms   {redact_ms / dumps_ms:5.2f}× floor"
    )


if __name__ == "__main__":
    main()
