"""A PostgreSQL 15 server for the tests and `make bench`, started from Debian's binaries.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user in a folder that
user owns. It listens on 127.0.0.1 on a free port and trusts local connections. It skips fsync (the
machine does not crash under a test) but keeps synchronous commits, so a commit the app acknowledged
survives a server restart. `stop()` ends it and removes the folder.

`PostgresServer(standby_of=primary)` starts a hot standby streaming from `primary` (a copy made with
`pg_basebackup -R`); `primary.require_synchronous_standby()` then makes every commit wait for it,
`standby.promote()` ends its recovery, and `pause_replay()` / `resume_replay()` hold its replay back so a
test can watch it lag.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "screening"


def available() -> bool:
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A server in a new temporary folder, or (with `folder`) in a kept one that a later run starts again."""

    def __init__(
        self, folder: Path | None = None, *, durable: bool = False, standby_of: PostgresServer | None = None
    ) -> None:
        self.kept = folder is not None
        self.durable = durable  # fsync and full-page writes on, as a production server runs
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="screening-pg-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self._as = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        if standby_of is not None and not (self.data / "PG_VERSION").exists():
            # A copy of the primary that goes on streaming from it (-R writes its connection settings).
            self._run(
                BIN / "pg_basebackup",
                "-D",
                self.data,
                "-h",
                "127.0.0.1",
                "-p",
                standby_of.port,
                "-U",
                USER,
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "-c",
                "fast",
            )
        elif not (self.data / "PG_VERSION").exists():
            self._run(
                BIN / "initdb",
                "-D",
                self.data,
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
        self.start()

    def _run(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self._as, *map(str, args)], check=check, capture_output=True, text=True, timeout=60
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=300"
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop", check=False)

    def restart(self, pause: float = 0.0) -> None:
        """Stop the server at once (every connection dropped), wait `pause` seconds, start it again."""
        self.stop("immediate")
        time.sleep(pause)
        self.start()

    def require_synchronous_standby(self, seconds: float = 30) -> None:
        """Wait until a standby streams from this server, then make every commit wait for it.

        Set before the standby streams, every commit would wait for a standby that is not there yet.
        """
        deadline = time.monotonic() + seconds
        while not self.value("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no standby streams from port {self.port} after {seconds} s")
            time.sleep(0.1)
        self.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        self.sql("SELECT pg_reload_conf()")
        while self.value("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not become synchronous")
            time.sleep(0.1)

    def promote(self) -> None:
        """End a standby's recovery: it takes writes from now on."""
        self._run(BIN / "pg_ctl", "-D", self.data, "-w", "-t", "30", "promote")

    def pause_replay(self) -> None:
        """Hold a standby's replay back: it keeps receiving, and what it serves falls behind."""
        self.sql("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def value(self, statement: str, params: list | None = None, dbname: str = "postgres"):
        """Return the first column of the first row a read gives (None when it gives no row)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            row = conn.execute(statement, params).fetchone()
            return row[0] if row else None

    def create_database(self, name: str, template: str = "template1") -> str:
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def exists(self, dbname: str) -> bool:
        return self.value("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]) is not None

    def remove(self) -> None:
        """Stop the server; a temporary folder goes with it, a kept one stays for the next run."""
        self.stop()
        if not self.kept:
            shutil.rmtree(self.folder, ignore_errors=True)
