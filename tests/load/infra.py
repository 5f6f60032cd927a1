"""The processes of a load run: a throwaway PostgreSQL cluster, gunicorn, db_worker.

Every process starts in its own process group and is registered with ``Processes``,
which stops the groups it started (and only those) when the run ends, pass or fail.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float = 5) -> int:
    """The status of a GET, or 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@dataclass
class Processes:
    """The process groups this run started; ``stop_all`` ends each one, newest first."""

    started: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, args: list[str], *, env: dict, log: Path) -> subprocess.Popen:
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own commands
                args,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process))
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 20) -> None:
        """SIGTERM to the process group, then SIGKILL if it is still there after ``timeout``."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Children that outlived their leader (gunicorn workers, PDF renderers): by pid,
        # so a group id the system has since given to someone else is never signalled.
        for pid in group_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop_all(self) -> None:
        while self.started:
            _name, process = self.started.pop()
            self.stop(process)


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every live process, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may hold spaces; the fields after it do not.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            found.append((int(stat.parent.name), int(fields[1]), int(fields[2])))
    return found


def group_members(pgid: int) -> list[int]:
    return [pid for pid, _parent, group in _processes() if group == pgid]


def children(parent: int) -> set[int]:
    return {pid for pid, ppid, _group in _processes() if ppid == parent}


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production-like settings for plain HTTP on the loopback interface."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DEBUG", "TASKS_BACKEND"}
    }
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on 127.0.0.1: no Secure / __Host- cookies, no HSTS.
        HTTPS="0",
        WHITENOISE_USE_FINDERS="1",
        STATICFILES_MANIFEST="0",
        DJANGO_SETTINGS_MODULE="assessment.settings",
        PYTHONUNBUFFERED="1",
        # WhiteNoise looks for collectstatic's folder; the finders serve the files instead.
        PYTHONWARNINGS="ignore:No directory at:UserWarning",
    )
    env.update(extra)
    return env


def manage(env: dict, *args: str, log: Path, timeout: float = 300) -> None:
    with log.open("ab") as out:
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=timeout,
        )


def start_gunicorn(
    processes: Processes, env: dict, *, port: int, workdir: Path, extra: tuple[str, ...] = ()
) -> "Gunicorn":
    # The production settings (timeouts, worker recycling, token-redacting access log),
    # with two workers on a port of our own.
    args = [
        str(BIN / "gunicorn"),
        "--config=python:assessment.gunicorn_conf",
        "assessment.wsgi",
        "--workers=2",
        f"--bind=127.0.0.1:{port}",
        f"--access-logfile={workdir / f'access-{port}.log'}",
        "--graceful-timeout=10",
        # gunicorn 27 opens a control socket at one path per user by default: two
        # instances (or someone else's) would fight over it.
        "--no-control-socket",
        *extra,
    ]
    log = workdir / f"gunicorn-{port}.log"
    process = processes.start(f"gunicorn:{port}", args, env=env, log=log)
    node = Gunicorn(process=process, url=f"http://127.0.0.1:{port}", log=log)
    node.wait_ready()
    return node


@dataclass
class Gunicorn:
    process: subprocess.Popen
    url: str
    log: Path

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            if http_status(f"{self.url}/health/", timeout=2) == 200:
                return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn at {self.url} did not answer /health/; see {self.log}")

    def pids(self) -> set[int]:
        """The master and its workers."""
        return {self.process.pid, *children(self.process.pid)}


def start_worker(processes: Processes, env: dict, *, name: str, workdir: Path) -> Path:
    """``manage.py db_worker`` with a known worker id; returns its log file."""
    log = workdir / f"{name}.log"
    processes.start(
        name,
        [
            sys.executable,
            "manage.py",
            "db_worker",
            f"--worker-id={name}",
            "--interval=0.5",
            "--no-reload",
        ],
        env=env,
        log=log,
    )
    return log


# --- PostgreSQL -------------------------------------------------------------------


def _postgres_bin() -> Path:
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise RuntimeError(
        "No PostgreSQL server binaries in /usr/lib/postgresql/*/bin; "
        "run `bash .ci/with-postgres true` once to install them."
    )


@dataclass
class Postgres:
    """A throwaway cluster on 127.0.0.1, run as the postgres user when we are root
    (PostgreSQL refuses root), like .ci/with-postgres."""

    root: Path
    port: int
    bin: Path = field(default_factory=_postgres_bin)

    @property
    def _as_pg(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(  # noqa: S603 - our own command
            [*self._as_pg, *args],
            check=False,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.root / "data"),
            "-U",
            "servicebalance",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        self.start()

    def start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.root / "data"),
            "-w",
            "-l",
            str(self.root / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        result = subprocess.run(  # noqa: S603 - our own command
            [*self._as_pg, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "status"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return result.returncode == 0

    def create_database(self, name: str) -> str:
        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "servicebalance",
            name,
        )
        return f"postgres://servicebalance@127.0.0.1:{self.port}/{name}"

    def version(self) -> str:
        result = subprocess.run(  # noqa: S603 - our own command
            [str(self.bin / "postgres"), "--version"], capture_output=True, text=True, check=False
        )
        # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        parts = result.stdout.split()
        return parts[2] if len(parts) > 2 else result.stdout.strip()

    def destroy(self) -> None:
        if (self.root / "data").exists() and self.is_running():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
