"""The demo fleet as a drill's target: which function shows each mode, and its config.

The only place the drill machinery knows the demo: a replayed incident is a target too,
with its own functions and config.
"""

from __future__ import annotations

from dataclasses import replace

from console.config import Config
from console.config_model import BackendConfig, Environment, OtlpConfig

__all__ = ["DRILL_BACKEND", "demo_targets", "drill_config"]

#: The drill's demo backend (its plugin state is the drill store's, never the console's).
DRILL_BACKEND = "drill"


def demo_targets() -> dict[str, str]:
    """Failure mode → the demo function that shows it."""
    from callboard_demo.scenario import FAILURES

    return {str(f.mode.value): f.function_id for f in FAILURES}


def drill_config(base: Config, modes: tuple[str, ...], inject_at: float) -> Config:
    """``base`` on a demo fleet where only ``modes`` fail, from ``inject_at`` (Unix seconds).

    The runbook folders and thresholds are the user's; the environment is ``drill`` (never
    production), not read-only (its actions change only the simulation: a drill cures its
    failure for real) and no OTLP receiver is started.
    """
    options = {"seed": base.demo.seed, "failures": ",".join(modes), "inject_at": inject_at}
    if base.demo.size:
        options["size"] = base.demo.size
    backend = BackendConfig(name=DRILL_BACKEND, plugin="demo", options=options, line=None)
    return replace(
        base,
        backends=(backend,),
        otlp=OtlpConfig(enabled=False),
        environment=Environment(name="drill"),
        read_only=False,
    )
