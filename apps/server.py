"""Production mode: a Prefect server, the `thidua` process work pool, the
`duckdb-writer` concurrency limits, every deployment of `prefect.yaml` (once per hosted
commune with a tenants list), the automations that rerun a lost host's runs, and a
worker.  Drives the `prefect` CLI in subprocesses; imports nothing of Prefect.

State lives under `$THIDUA_HOME/prefect/`: the server's SQLite database (PREFECT_HOME;
PostgreSQL when `database` is set, docs/deploy.md), logs and pid files, so `stop` finds
what `start` launched.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from thidua.errors import ThiduaError
from thidua.tenants import Tenant, load_tenants, writer_limit

REPO = Path(__file__).resolve().parent.parent
WORK_POOL = "thidua"


class ServerError(ThiduaError):
    "The Prefect server or one of its set-up steps failed"


@contextmanager
def web_process(
    port: int, env: Mapping[str, str], log: Path, timeout: float = 180
) -> Iterator[subprocess.Popen]:
    """`thidua web` on 127.0.0.1:`port` in a subprocess (output to `log`), yielded once
    it answers /healthz (it imports and warms GX first), stopped on exit.  For the
    benches, the browser tests and the screenshot script."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "apps", "web", "--port", str(port)],
            cwd=REPO,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise ServerError(
                            "thidua web did not start:\n" + log.read_text("utf-8")[-3000:]
                        ) from None
                    time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass(frozen=True)
class Server:
    home: Path  # THIDUA_HOME (of the server's own state with tenants)
    port: int = 4200
    host: str = "127.0.0.1"  # where the API listens: workers on other hosts reach it here
    tenants: Path | None = None  # tenants.toml: one set of deployments per commune
    database: str | None = None  # postgresql+asyncpg://… (else SQLite under PREFECT_HOME)
    worker_limit: int = 4  # flow runs at once per worker
    deployments: tuple[str, ...] = ()  # which of prefect.yaml's to deploy (default: all)

    @property
    def state(self) -> Path:
        return self.home / "prefect"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment of every process of the server side (and of flows the worker runs)."""
        env = dict(os.environ)
        env.update(
            {
                "PREFECT_HOME": str(self.state),
                "PREFECT_API_URL": self.api_url,
                "PREFECT_UI_URL": self.ui_url,
                "PREFECT_SERVER_API_HOST": self.host,
                "PREFECT_SERVER_API_PORT": str(self.port),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "GX_ANALYTICS_ENABLED": "false",
                "PREFECT_WORKER_QUERY_SECONDS": env.get("PREFECT_WORKER_QUERY_SECONDS", "5"),
                "THIDUA_HOME": str(self.home),
                "THIDUA_REPO": str(REPO),
                "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",  # apps.automations: lost hosts
            }
        )
        if self.tenants:
            env["THIDUA_TENANTS"] = str(self.tenants.absolute())
        if self.database:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database
        return env

    def _pid_file(self, name: str) -> Path:
        return self.state / "run" / f"{name}.pid"

    def _spawn(self, name: str, args: list[str]) -> int:
        (self.state / "run").mkdir(parents=True, exist_ok=True)
        (self.state / "logs").mkdir(parents=True, exist_ok=True)
        log = open(self.state / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - child keeps it
        proc = subprocess.Popen(
            args,
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._pid_file(name).write_text(str(proc.pid))
        return proc.pid

    def _prefect(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [_prefect_bin(), *args],
            check=False,
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if check and done.returncode != 0:
            raise ServerError(f"`prefect {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
        return done

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as r:
                return json.loads(r.read()) is True
        except OSError:
            return False

    def start(
        self, timeout: float = 120, deploy: bool = True, worker: bool = True, web: bool = False
    ) -> None:
        """Start the server (if not running), create pool, limits and automations, deploy,
        start a worker and, with `web`, the upload and review pages (`thidua web`)."""
        if not self.healthy():
            self._spawn(
                "server",
                [_prefect_bin(), "server", "start", "--host", self.host, "--port", str(self.port)]
                + ["--analytics-off"],
            )
            deadline = time.monotonic() + timeout
            while not self.healthy():
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"no healthy Prefect server at {self.api_url} after "
                        f"{timeout:.0f} s; see {self.state / 'logs/server.log'}"
                    )
                time.sleep(0.5)
        self._prefect("work-pool", "create", WORK_POOL, "--type", "process", "--overwrite")
        hosted = load_tenants(self.tenants) if self.tenants else {}
        self._automations([writer_limit(None)] + [writer_limit(name) for name in hosted])
        if deploy:
            self._prefect(
                "--no-prompt", "deploy", "--all", "--prefect-file", self._deployments(hosted)
            )
        if worker and not self.running("worker"):
            self._spawn("worker", self.worker_command("thidua-worker"))
        if web and not self.running("web"):
            self._spawn("web", [sys.executable, "-m", "apps", "web"])

    def worker_command(self, name: str) -> list[str]:
        """A worker of the pool, at most `worker_limit` runs at once: on this host, or on
        another one with this server's `env()` (docs/deploy.md)."""
        pool = ["--pool", WORK_POOL, "--limit", str(self.worker_limit)]
        return [_prefect_bin(), "worker", "start", *pool, "--name", name]

    def _automations(self, limits: list[str]) -> None:
        """The automations and the writer `limits`, in one process (apps.automations)."""
        done = subprocess.run(
            [sys.executable, "-m", "apps.automations", *limits],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ServerError(f"automations not created:\n{done.stdout}{done.stderr}")

    def _deployments(self, hosted: Mapping[str, Tenant]) -> str:
        """prefect.yaml itself, or a copy with only `self.deployments` and (with tenants)
        each deployment once per tenant: named after it, `tenant` among its parameters,
        tagged `tenant:<name>`."""
        if not hosted and not self.deployments:
            return str(REPO / "prefect.yaml")
        doc = yaml.safe_load((REPO / "prefect.yaml").read_text("utf-8"))
        chosen = [d for d in doc["deployments"] if d["name"] in (self.deployments or [d["name"]])]
        doc["deployments"] = [
            {
                **d,
                "name": name,
                "parameters": {**(d.get("parameters") or {}), "tenant": name},
                "tags": [f"tenant:{name}"],
            }
            for name in hosted
            for d in chosen
        ] or chosen
        path = self.state / "prefect-tenants.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
        return str(path)

    def running(self, name: str) -> bool:
        pid = self._pid(name)
        return pid is not None and _alive(pid)

    def _pid(self, name: str) -> int | None:
        try:
            return int(self._pid_file(name).read_text())
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 30) -> list[str]:
        """Stop web app, worker, then server (their whole process groups); return what was
        stopped."""
        stopped = []
        for name in ("web", "worker", "server"):
            pid = self._pid(name)
            if pid is not None and _alive(pid):
                os.killpg(pid, signal.SIGTERM)
                deadline = time.monotonic() + timeout
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.2)
                if _alive(pid):
                    os.killpg(pid, signal.SIGKILL)
                stopped.append(name)
            self._pid_file(name).unlink(missing_ok=True)
        return stopped


def without_schedules() -> None:
    """Turn every deployment's schedules off and drop the runs they made: a scheduled
    collect (every 15 min) would otherwise take a test's or a bench's files at :00,
    :15, :30, :45.  Against the API of the current settings."""
    # imported here: this module imports nothing of Prefect (the server runs it)
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        for d in client.read_deployments():
            for s in client.read_deployment_schedules(d.id):
                client.update_deployment_schedule(d.id, s.id, active=False)
        for r in client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            )
        ):
            client.delete_flow_run(r.id)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server a test or a bench starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefect_bin() -> str:
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is dead too.
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True
