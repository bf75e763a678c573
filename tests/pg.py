"""A throwaway PostgreSQL cluster for the tests and benchmarks: Debian's binaries, a temp dir,
a free loopback port, a password-authenticated role.

The binaries are found through ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin`` (never
PATH). As root, ``initdb``/``pg_ctl``/``postgres`` run as the unprivileged ``postgres`` user
(``runuser -u postgres --``; the temp dir is chowned to it): PostgreSQL refuses to run as
root. The superuser logs in over the unix socket in the temp dir (trust); the app role
``callboard`` logs in over TCP with a password (scram-sha-256), as a team's consoles do.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

#: The role the tests' stores log in as, and its password (over TCP, scram-sha-256).
APP_USER = "callboard"
APP_PASSWORD = "pg-test-" + uuid.uuid4().hex[:16]
#: A database migrated to the latest schema: each test's database is a copy (fast).
TEMPLATE = "cb_template"


class PgMissing(RuntimeError):
    """PostgreSQL's server binaries are not installed here."""


def find_bindir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin``.

    Raises:
        PgMissing: neither has ``initdb``.
    """
    candidates: list[Path] = []
    for config in ("/usr/bin/pg_config", *glob.glob("/usr/lib/postgresql/*/bin/pg_config")):
        if os.access(config, os.X_OK):
            try:
                out = subprocess.run(
                    [config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
                ).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                continue
            candidates.append(Path(out))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PgMissing(
        "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin):"
        " apt-get install postgresql"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One cluster: ``start()``, then ``url(db)`` / ``admin()``; ``stop()`` removes it all."""

    def __init__(self, *, fast: bool = True, settings: tuple[str, ...] = ()) -> None:
        """``fast``: no fsync at all (a throwaway cluster); ``settings``: more ``-c`` ones."""
        self.bindir = find_bindir()
        self.fast = fast
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="callboard-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = 0
        self._as: list[str] = []
        self._started = False
        self._count = 0

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [*self._as, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def start(self) -> PgCluster:
        """initdb, pg_ctl start, the app role; on any failure everything is removed again."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> PgCluster:
        self.sock.mkdir()
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PgMissing("running as root and there is no 'postgres' user") from None
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            self._as = [runuser, "-u", "postgres", "--"]
            for path in (self.root, self.sock):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
            "--no-sync",
        )  # fmt: skip
        self.port = free_port()
        opts = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.sock}",
            "-c max_connections=200",
        ]
        if self.fast:  # a throwaway cluster: durability buys nothing here
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        opts += [f"-c {setting}" for setting in self.settings]
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", " ".join(opts), "-w", "-t", "60", "start",
        )  # fmt: skip
        self._started = True
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN CREATEDB PASSWORD '{APP_PASSWORD}'")
        return self

    def admin(self, db: str = "postgres") -> Any:
        """A superuser connection over the unix socket (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=str(self.sock), port=self.port, user="postgres", dbname=db, autocommit=True
        )

    def url(self, db: str, *, password: bool = False) -> str:
        """The app role's URL of ``db`` (with the password in it only when asked)."""
        auth = f"{APP_USER}:{APP_PASSWORD}" if password else APP_USER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def create_db(self, template: str | None = None) -> str:
        """A new empty database owned by the app role (a copy of ``template`` if given)."""
        self._count += 1
        name = f"t{self._count}_{uuid.uuid4().hex[:8]}"
        with self.admin() as conn:
            extra = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name} OWNER {APP_USER}{extra}")
        return name

    def drop_db(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def make_template(self) -> str:
        """The migrated template database (made once)."""
        from console.engine.store.postgres import PostgresStore

        with self.admin() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,))
            if row.fetchone() is not None:
                return TEMPLATE
            conn.execute(f"CREATE DATABASE {TEMPLATE} OWNER {APP_USER}")
        store = PostgresStore(self.url(TEMPLATE), password=APP_PASSWORD, notice=lambda _m: None)
        try:
            store.open()
        finally:
            store.close()
        return TEMPLATE

    def stop(self) -> None:
        try:
            if self._started:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                    "-w", "-t", "60", "stop",
                )  # fmt: skip
                self._started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
