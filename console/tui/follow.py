"""Live together: the console follows its store and shows what other processes wrote.

A thread of its own (never the UI thread; not a Textual worker, so tests and screens that
wait for their workers to complete do not wait on it) waits on the store (:class:`~console.engine.store.
follow.Follower`: ``wait_for_change`` plus a read of the events after the last seen) and
posts :class:`StoreFollowed` with each batch. The app re-reads the active incidents (every
open timeline and incident bar follows them) and, for another actor's note, run, status or
role change, shows a quiet notification naming who did it. This process's own writes
(events with its own actor) refresh but never notify. An in-memory store is not followed
(no other process can write to it).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from console.core.team import notice
from console.engine.store.events import Event, actor_of
from console.tui.messages import WorkFailed

if TYPE_CHECKING:
    from textual.app import App

    from console.engine.store.base import StoreLike

__all__ = ["POLL_S", "StoreFollowed", "StoreWatch"]

#: The longest one wait on the store lasts: how soon the worker sees it should stop.
POLL_S = 0.5
#: Notifications per batch at most (a burst says "and N more").
NOTICES = 3


@dataclass
class StoreFollowed(Message):
    """Events other processes (and this one) appended since the last batch."""

    events: list[Event]


class StoreWatch:
    """Follows one store for the app: start on mount, stop (and wait) on unmount."""

    def __init__(self, app: App[Any], store: StoreLike) -> None:
        self._app = app
        self.store = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The actor of this console's own writes (they do not notify).
        self.me = actor_of(store)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.store.location == ":memory:" or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._follow, name="store-follow", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        from console.engine.store.follow import Follower

        try:
            follower = Follower(self.store)
            while not self._stop.is_set():
                found = follower.poll(POLL_S)
                if found and not self._stop.is_set():
                    self._app.post_message(StoreFollowed(found))
        except Exception as exc:  # the console stays up; following stops, said once
            self._app.post_message(WorkFailed("Following the store", exc))

    async def stop(self, wait_s: float = 2.0) -> None:
        """Stop following and wait (at most ``wait_s``) for the thread, which may be using the
        store, to end: one wait on the store lasts at most :data:`POLL_S`."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, wait_s)

    def notices(self, events: list[Event]) -> list[str]:
        """What to tell the operator about ``events`` (others' only, at most NOTICES)."""
        said = [n for e in events if e.actor != self.me and (n := notice(e)) is not None]
        if len(said) > NOTICES:
            said = [*said[: NOTICES - 1], f"… and {len(said) - NOTICES + 1} more changes"]
        return said
