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
    from console.engine.store.secrets import SecretStore
    from console.engine.store.sqlite import Store


@dataclass
class AppContext:
    """Global options plus the config, store and secrets they lead to (created on first use)."""

    config_path: str | None = None
    demo: bool = False
    read_only: bool = False
    db_path: str | None = None
    demo_size: int | None = None
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
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

    @property
    def store(self) -> Store:
        if self._store is None:
            from console import paths
            from console.engine.store.sqlite import Store

            path = self.db_path or os.environ.get("CALLBOARD_DB") or str(paths.default_db())
            store = Store(Path(path) if path != ":memory:" else path)
            me = self.config.me  # who writes: the actor of every event (config ``me``)
            store.actor, store.actor_name = me.handle, me.name
            self._store = store
        return self._store

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
            store=self.store,
            secrets=self.secrets,
            demo=self.demo,
            demo_size=self.demo_size,
        )
        if not any(b.plugin_name == "otlp" for b in fleet.backends):
            fleet.backends.insert(0, self._embedded_traces())
        return fleet

    def _embedded_traces(self) -> Backend:
        from console.engine.fleet.build import embedded_traces

        return embedded_traces(self.store, self.config.otlp)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
