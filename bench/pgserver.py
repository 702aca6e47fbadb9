"""A PostgreSQL 15 server for the tests and `make bench`, started from Debian's binaries.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user in a folder that
user owns. It listens on 127.0.0.1 on a free port and trusts local connections. It skips fsync (the
machine does not crash under a test) but keeps synchronous commits, so a commit the app acknowledged
survives a server restart. `stop()` ends it and removes the folder.
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

    def __init__(self, folder: Path | None = None, *, durable: bool = False) -> None:
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
        if not (self.data / "PG_VERSION").exists():
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

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, template: str = "template1") -> str:
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def exists(self, dbname: str) -> bool:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None
            )

    def remove(self) -> None:
        """Stop the server; a temporary folder goes with it, a kept one stays for the next run."""
        self.stop()
        if not self.kept:
            shutil.rmtree(self.folder, ignore_errors=True)
