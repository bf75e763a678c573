"""``callboard export INCIDENT --format md|json|html|csv [-o FILE]``: the postmortem (or a
drill's record, ``DRILL-0001``, from its own store)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from console.context import AppContext
from console.engine.incidents.export import FORMATS, export_bytes
from console.errors import CallboardError


def referenced_secrets(app: AppContext) -> list[str]:
    """The secret names the config refers to (``secret: NAME``), for the export to resolve
    with the install's own (see :func:`console.engine.export_secrets.prime_redactor`)."""
    names: list[str] = []
    with contextlib.suppress(CallboardError):  # a broken config must not stop an export
        from console.config import secret_refs

        for backend in app.config.backends:
            names += [name for _, name in secret_refs(dict(backend.options))]
    return names


def onset_window_s(app: AppContext) -> float:
    """``incidents.onset_window`` from the config; the default (with a warning) when the
    config cannot be read — a broken config must not stop an export."""
    from console.core.incident_times import DEFAULT_ONSET_WINDOW_S

    try:
        return app.config.incidents.onset_window_seconds
    except CallboardError:
        click.echo(
            "warning: the config could not be read (see `callboard check`); "
            "using the default onset window, 1h",
            err=True,
        )
        return DEFAULT_ONSET_WINDOW_S


@click.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md: postmortem draft; json: complete; csv: timeline; html: one page with a chart.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write here instead of standard output.")  # fmt: skip
@click.pass_obj
def export(app: AppContext, incident_id: str, fmt: str, output: Path | None) -> int:
    """Export an incident as a postmortem (times in UTC, secrets redacted)."""
    from console.engine.drills.store import DRILL_RE, drill_file, drills_dir

    store = app.store
    if DRILL_RE.match(incident_id.strip().upper()):  # a drill: its own store (`callboard drill`)
        from console.engine.store.sqlite import Store

        store = Store(drill_file(drills_dir(app.db_path), incident_id))
    try:
        # Encoded once: an 80 MB export is costly to encode twice.
        data = export_bytes(store, incident_id, fmt, onset_window_s=onset_window_s(app),
                            secrets=app.secrets, referenced=referenced_secrets(app))  # fmt: skip
    finally:
        if store is not app.store:
            store.close()
    if output is None:
        out = sys.stdout
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:  # a text-only stream (some embedders)
            out.write(data.decode("utf-8"))
    else:
        from console.engine.store.atomic import write_atomic

        write_atomic(output, data)  # the whole new file or the earlier one, never half
        click.echo(f"wrote {output} ({fmt}, {len(data):,} bytes)", err=True)
    return 0


COMMANDS = [export]
