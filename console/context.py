"""What every command needs, built lazily from the global options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.config import Config
    from console.engine.fleet.backend import Backend
    from console.engine.fleet.refresh import Fleet
    from console.engine.store.base import StoreLike
    from console.engine.store.secrets import SecretStore
    from console.engine.store.sqlite import Store


@dataclass
class AppContext:
    """Global options plus the config, stores and secrets they lead to (created on first use).

    ``store`` is the team store: incidents, events, runs, steps, settings — the local SQLite
    file, or PostgreSQL when ``--db``/``CALLBOARD_DB`` is a ``postgresql://`` URL or the
    config says ``store: {url: …}``. ``local_store`` is always the machine's SQLite file: the
    OTLP receiver's spans and plugin state (the same object as ``store`` when that is SQLite).
    """

    config_path: str | None = None
    demo: bool = False
    read_only: bool = False
    db_path: str | None = None
    demo_size: int | None = None
    _config: Config | None = field(default=None, repr=False)
    _store: StoreLike | None = field(default=None, repr=False)
    _local: Store | None = field(default=None, repr=False)
    _secrets: SecretStore | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The loaded config (raises ConfigErrors for a bad file)."""
        if self._config is None:
            from console.config import load_config

            cfg = load_config(self.config_path)
            if self.read_only:  # the flag; CALLBOARD_READ_ONLY is read by load_config
                cfg = replace(cfg, read_only=True)
            self._config = cfg
        return self._config

    def _target(self) -> tuple[str, bool]:
        """Where the team store is, and whether the config named it."""
        given = self.db_path or os.environ.get("CALLBOARD_DB")
        if given:
            return given, False
        url = self.config.store.url
        if url:
            return url, True
        from console import paths

        return str(paths.default_db()), False

    @property
    def store(self) -> StoreLike:
        """The team store (see the class docstring)."""
        if self._store is None:
            from console.engine.store.connect import is_pg_url, open_store

            target, from_config = self._target()
            store: StoreLike
            if not is_pg_url(target):
                store = self.local_store
            else:
                cfg = self.config.store
                password = None
                if cfg.password and (from_config or _same_server(target, cfg.url)):
                    password = self.secrets.get(cfg.password)
                store = open_store(target, password=password, manual=cfg.migrate == "manual")
            me = self.config.me  # who writes: the actor of every event (config ``me``)
            store.actor, store.actor_name = me.handle, me.name
            self._store = store
        return self._store

    @property
    def local_store(self) -> Store:
        """The machine's SQLite file: spans, plugin state (and everything, without a team
        store). ``--db FILE`` / ``CALLBOARD_DB`` name it; a URL there leaves it the default."""
        if self._local is None:
            from console import paths
            from console.engine.store.sqlite import Store

            path = paths.local_db(self.db_path or os.environ.get("CALLBOARD_DB"))
            self._local = Store(Path(path) if path != ":memory:" else path)
        return self._local

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            from console.engine.store.secrets import SecretStore

            self._secrets = SecretStore()
        return self._secrets

    def fleet(self) -> Fleet:
        """A Fleet over the configured backends (or the demo), plus the embedded OTLP span
        store as the first trace source (it costs nothing per refresh: traces are on demand)."""
        from console.engine.fleet.build import build_fleet

        fleet = build_fleet(
            self.config,
            store=self.local_store,
            secrets=self.secrets,
            demo=self.demo,
            demo_size=self.demo_size,
            # with no backend configured the demo fills the fleet — unless services already
            # send OpenTelemetry to the embedded receiver: then they are the fleet
            demo_if_empty=not self._otlp_functions_seen(),
        )
        if not any(b.plugin_name == "otlp" for b in fleet.backends):
            fleet.backends.insert(0, self._embedded_traces())
        return fleet

    def _otlp_functions_seen(self) -> bool:
        """Whether the embedded receiver has tallied any function (cheap: one row)."""
        if self.demo or self.config.backends or not self.config.otlp.enabled:
            return False
        from console.engine.otlp.health import any_function

        return any_function(self.local_store)

    def _embedded_traces(self) -> Backend:
        from console.engine.fleet.build import embedded_traces

        return embedded_traces(self.local_store, self.config.otlp)

    def close(self) -> None:
        if self._store is not None and self._store is not self._local:
            self._store.close()
        if self._local is not None:
            self._local.close()


def _same_server(url: str, configured: str | None) -> bool:
    """Whether ``url`` (from --db) names the configured store's server, user and database:
    only then is the configured password sent to it."""
    if not configured:
        return False
    from urllib.parse import urlsplit

    try:
        a, b = urlsplit(url), urlsplit(configured)
        return (a.hostname, a.port, a.username, a.path) == (b.hostname, b.port, b.username, b.path)
    except ValueError:
        return False
