"""Real Redis and PostgreSQL servers for tests: Debian's binaries, free ports, temp dirs, stopped afterwards.

`make test` installs both (`apt-get install redis-server postgresql`); where they cannot be installed the tests
that need them are skipped with the reason printed.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ServerProcess, free_port, wait_for_port


def _skip(reason: str) -> None:
    print(f"SKIPPED: {reason}")  # printed as well, so a CI log says why in plain words
    pytest.skip(reason)


class RedisServer(ServerProcess):
    """`redis-server` on a free port with no persistence, in its own temp dir; can be killed and restarted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            _skip("redis-server is not installed (make test installs it: apt-get install redis-server)")
        self.path.mkdir(parents=True, exist_ok=True)
        log = open(self.path / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.path)]
        command += ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
        self.proc = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for_port(self.port, 20, self.proc)
        return self


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb, then `postgres` on a free port), run as the `postgres` user when
    the tests run as root (PostgreSQL refuses root). Trust auth on 127.0.0.1 only; fsync off."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"postgresql://lva@127.0.0.1:{self.port}/lva"
        self.proc: subprocess.Popen | None = None
        self.user: str | None = None
        self.bin = Path()
        self.path = Path()

    def _prepare(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            _skip("PostgreSQL is not installed (make test installs it: apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                _skip("running as root without a `postgres` user to run PostgreSQL as")
            self.user = "postgres"
        # Under /tmp, not pytest's root-only temp dir, so the postgres user can reach it.
        self.path = Path(tempfile.mkdtemp(prefix="lva-pg-"))
        if self.user:
            shutil.chown(self.path, self.user, self.user)

    def _run(self, command: list[str], **kwargs: object) -> subprocess.Popen:
        return subprocess.Popen(command, user=self.user, group=self.user, cwd=self.path, **kwargs)  # type: ignore[call-overload]

    def start(self) -> PostgresServer:
        if self.proc is None and not (self.path / "data").exists():
            self._prepare()
            initdb = [str(self.bin / "initdb"), "-D", str(self.path / "data"), "-U", "lva", "-A", "trust", "--no-sync"]
            done = self._run(initdb, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            output = done.communicate(timeout=120)[0]
            assert done.returncode == 0, output.decode(errors="replace")
        log = open(self.path / "postgres.log", "ab")  # noqa: SIM115 - closed with the process
        command = [str(self.bin / "postgres"), "-D", str(self.path / "data"), "-p", str(self.port)]
        command += ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.path}"]
        command += ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=100"]
        self.proc = self._run(command, stdout=log, stderr=log)
        wait_for_port(self.port, 60, self.proc)
        self._create_database()
        return self

    def _create_database(self) -> None:
        createdb = [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "lva", "lva"]
        for _ in range(50):  # the port opens a moment before connections are accepted
            done = self._run(createdb, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            output = done.communicate(timeout=30)[0].decode(errors="replace")
            if done.returncode == 0 or "already exists" in output:
                return
            time.sleep(0.2)
        raise RuntimeError(f"createdb failed: {output}")

    def kill(self) -> None:
        """Crash it: SIGQUIT is PostgreSQL's immediate shutdown (no checkpoint, connections cut), which, unlike
        SIGKILL of the postmaster, leaves no orphaned backends holding the data dir."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (tests that kill it use their own)."""
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server for the session (tests that kill it use their own)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


def fresh_database(server: PostgresServer, name: str) -> str:
    """A new, empty database on the server; returns its URL."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=lva dbname=lva", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://lva@127.0.0.1:{server.port}/{name}"
