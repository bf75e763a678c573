"""OTLP receiver under attack: peak memory for a 16 MB amplification body, a small request's
latency while it is processed, and a console key's latency meanwhile.

    .venv/bin/python bench/bench_otlp_attack.py            # receiver figures
    .venv/bin/python bench/bench_otlp_attack.py --console  # + the console key latency

Receiver: each attack runs against a fresh receiver process (``console.engine.otlp.child``,
what the console runs, on a free loopback port, SQLite on disk), so its peak RSS (``VmHWM``) minus its RSS before the
attack is what that body cost. While the attack body is in flight a second client sends
the fixture span (OTLP JSON, one span) again and again; its latencies are reported beside
the floor — the same request to the same receiver with no attack.

Console: the app (demo fleet, 140×45, headless) with ``otlp.enabled``; down/up in the
fleet table, timed from the key to the first screen update showing the moved cursor, with
no attack (floor) and while another process posts the costliest amplification body (empty
attributes: 200,000 objects decoded before the limit) in a loop — with the receiver in its
own process (what the console does) and in the console's process (decoding in a thread).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

MiB = 1024 * 1024
AMP = 8 * MiB - 16  # two-byte messages: a body just under the 16 MiB default limit
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "otlp" / "trace.json"
SMALL = FIXTURE.read_bytes()
JS = {"Content-Type": "application/json"}
PB = {"Content-Type": "application/x-protobuf"}


def _field(number: int, payload: bytes) -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)

    return varint(number << 3 | 2) + varint(len(payload)) + payload


ATTACKS: dict[str, tuple[bytes, dict[str, str]]] = {
    "protobuf, empty resource_spans (issue 11)": (b"\x0a\x00" * AMP, PB),
    "protobuf, empty spans": (_field(1, _field(2, b"\x12\x00" * AMP)), PB),
    "protobuf, empty attributes": (_field(1, _field(2, _field(2, b"\x4a\x00" * AMP))), PB),
    "JSON, empty objects": (b'{"resourceSpans":[' + b",".join([b"{}"] * (5 * MiB)) + b"]}", JS),
}


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


async def _small_latencies(
    url: str, n: int | None, until: asyncio.Future[Any] | None
) -> list[float]:
    lat: list[float] = []
    async with httpx.AsyncClient(timeout=120) as c:
        while (n is not None and len(lat) < n) or (until is not None and not until.done()):
            t0 = time.perf_counter()
            r = await c.post(url, content=SMALL, headers=JS)
            lat.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
    return lat


async def _attack(
    name: str, body: bytes, headers: dict[str, str], db: str, concurrent: int = 1
) -> dict[str, Any]:
    proc = subprocess.Popen(  # the receiver process the console runs (otlp.enabled)
        [sys.executable, "-m", "console.engine.otlp.child", f"--db={db}", "--port=0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        word, host, port = proc.stdout.readline().split()
        assert word == "listening", (word, host, port)
        url = f"http://{host}:{port}/v1/traces"
        floor = await _small_latencies(url, 30, None)
        before = _status(proc.pid)["VmRSS"]
        # the attack comes from another process, so sending it does not slow our client
        sender = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SENDER,
            url,
            name,
            str(concurrent),
            str(Path(__file__).resolve().parent),
            stdout=subprocess.PIPE,
        )
        assert sender.stdout is not None
        assert await sender.stdout.readline() == b"sending\n"
        result = asyncio.ensure_future(sender.stdout.readline())
        during = await _small_latencies(url, None, result)
        sent = json.loads(await result)
        await sender.wait()
        peak = _status(proc.pid)["VmHWM"] - before
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(30)
    return {
        "attack": name,
        "body_mb": round(len(body) / MiB, 1),
        "statuses": sent["statuses"],
        "answered_s": sent["seconds"],
        "peak_rss_growth_mb": round(peak / MiB, 1),
        "ratio_to_body": round(peak / (len(body) * concurrent), 2),
        "small_during_n": len(during),
        "small_during_p50_ms": round(statistics.median(during), 1) if during else None,
        "small_during_max_ms": round(max(during), 1) if during else None,
        "floor_p50_ms": round(statistics.median(floor), 1),
        "floor_max_ms": round(max(floor), 1),
    }


SENDER = r"""
import asyncio, json, sys, time
import httpx
sys.path.insert(0, sys.argv[4])  # bench/, for the attack bodies
from bench_otlp_attack import ATTACKS, _tally
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
body, headers = ATTACKS[name.split(" × ")[-1]]

async def main():
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=n)) as c:
        print("sending", flush=True)
        t0 = time.perf_counter()
        posts = [c.post(url, content=body, headers=headers) for _ in range(n)]
        answers = await asyncio.gather(*posts, return_exceptions=True)
        took = time.perf_counter() - t0
    print(json.dumps({"statuses": _tally(answers), "seconds": round(took, 2)}), flush=True)

asyncio.run(main())
"""


def _tally(answers: list[Any]) -> dict[str, int]:
    """{status: count}; a connection the server closed before the client read the answer
    is "reset" (also retryable for an OTLP exporter)."""
    out: dict[str, int] = {}
    for a in answers:
        key = str(a.status_code) if isinstance(a, httpx.Response) else "reset"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def receiver_figures() -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(name, body, headers, 1) for name, (body, headers) in ATTACKS.items()]
        body, headers = ATTACKS["protobuf, empty spans"]
        runs.append(("10 concurrent × protobuf, empty spans", body, headers, 10))
        for i, (name, body, headers, n) in enumerate(runs):
            r = asyncio.run(_attack(name, body, headers, os.path.join(tmp, f"{i}.db"), n))
            results.append(r)
            during = (
                f"p50 {r['small_during_p50_ms']} ms, max {r['small_during_max_ms']} ms"
                if r["small_during_n"]
                else "none finished before the attack was answered"
            )
            print(
                f"{name}: {r['body_mb']} MB → {r['statuses']} in {r['answered_s']} s; "
                f"peak RSS +{r['peak_rss_growth_mb']} MB ({r['ratio_to_body']}× the bodies); "
                f"small request during it: {during} (n={r['small_during_n']}); "
                f"floor p50 {r['floor_p50_ms']} ms, max {r['floor_max_ms']} ms"
            )
    return results


ATTACKER = r"""
import sys, httpx
url, n = sys.argv[1], 8 * 1024 * 1024 - 16
def field(number, payload):
    def varint(n):
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0)); n >>= 7
            if not n:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload
body = field(1, field(2, field(2, b"\x4a\x00" * n)))  # the costliest: 200,000 items decoded
print("ready", flush=True)
with httpx.Client(timeout=300) as c:
    while True:
        c.post(url, content=body, headers={"Content-Type": "application/x-protobuf"})
"""


async def _key_latencies(attack: bool, own_process: bool, presses: int = 40) -> list[float]:
    """ms from a key (down / up in the fleet table) to the first screen update that shows
    the moved cursor. Timed by the app's own display calls, not by Pilot's idle wait,
    which waits for the *process* to go idle and so would count the receiver's work."""
    import socket

    from textual import events

    from console.context import AppContext
    from console.tui.app import CallboardApp

    shown: list[tuple[float, int]] = []  # (when, cursor row painted)

    class Timed(CallboardApp):
        CSS_PATH = str(
            Path(sys.modules[CallboardApp.__module__].__file__ or "").parent / "callboard.tcss"
        )

        def _display(self, screen: Any, renderable: Any) -> None:
            table = getattr(screen, "table", None)
            if renderable is not None and table is not None:
                shown.append((time.perf_counter(), table.cursor_row))
            super()._display(screen, renderable)

    with tempfile.TemporaryDirectory() as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(f"otlp: {{enabled: true, host: 127.0.0.1, port: {port}}}\n")
        # a file store runs the receiver as a child process; ":memory:" keeps it in ours
        db = str(Path(tmp) / "cb.db") if own_process else ":memory:"
        ctx = AppContext(config_path=str(cfg), demo=True, db_path=db)
        app = Timed(ctx.fleet(), refresh_interval=3600, context=ctx, store=ctx.store)
        lat: list[float] = []
        attacker = None
        async with app.run_test(size=(140, 45)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.receiver is not None, app.receiver_note
            table = app.screen.table  # type: ignore[attr-defined]
            if attack:
                attacker = subprocess.Popen(
                    [sys.executable, "-c", ATTACKER, f"http://127.0.0.1:{port}/v1/traces"],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert attacker.stdout is not None and attacker.stdout.readline() == "ready\n"
                await asyncio.sleep(1.0)  # let the first attack body arrive and start decoding
            try:
                for i in range(presses):
                    key = "down" if i % 2 == 0 else "up"
                    row = table.cursor_row
                    t0 = time.perf_counter()
                    app._driver.send_message(events.Key(key, None))  # type: ignore[union-attr]
                    for _ in range(5000):  # bounded: ~5 s at most
                        painted = [t for t, r in shown if t > t0 and r != row]
                        if painted:
                            break
                        await asyncio.sleep(0.001)
                    else:
                        raise AssertionError("the key was not answered in 5 s")
                    lat.append((painted[0] - t0) * 1000)
                    await asyncio.sleep(0.05)
            finally:
                if attacker is not None:
                    attacker.kill()
                    attacker.wait(10)
        return lat


def console_figures() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for own_process in (True, False):
        where = "own process" if own_process else "console's process (decode thread)"
        for attack in (False, True):
            lat = asyncio.run(_key_latencies(attack, own_process))
            label = "under attack" if attack else "floor (no attack)"
            out[f"{'process' if own_process else 'thread'}_{'attack' if attack else 'floor'}"] = {
                "p50_ms": round(statistics.median(lat), 1),
                "max_ms": round(max(lat), 1),
                "n": len(lat),
            }
            print(
                f"console key → screen change, receiver in {where}, {label}: "
                f"p50 {statistics.median(lat):.1f} ms, max {max(lat):.1f} ms (n={len(lat)})"
            )
    return out


def main() -> None:
    results: dict[str, Any] = {}
    if "--console-only" not in sys.argv:
        results["receiver"] = receiver_figures()
    if "--console" in sys.argv or "--console-only" in sys.argv:
        results["console"] = console_figures()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
