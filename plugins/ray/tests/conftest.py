"""One local Ray cluster for the whole test session: `ray start --head` and a
worker node (`ray start --address=...`), both on 127.0.0.1, in a temporary
directory of their own; stopped at the end by killing exactly its processes."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, NamedTuple

import psutil  # tests/requirements.txt: finds and stops exactly this cluster's processes
import pytest

RAY = str(Path(sys.executable).parent / "ray")


class Cluster(NamedTuple):
    address: str
    env: dict[str, str]
    temp: str

    def processes(self) -> list["psutil.Process"]:
        """The cluster's processes: those started with its temporary directory
        or its GCS address on their command line (GCS, raylets, monitors, the
        client server) and their descendants (agents, workers, whose titles Ray
        rewrites)."""
        roots, gcs = [], ":" + self.address.rpartition(":")[2]  # the Ray client server names only the GCS
        for proc in psutil.process_iter(["cmdline"]):
            if any(self.temp in part or part.endswith(gcs) for part in proc.info["cmdline"] or ()):
                roots.append(proc)
        found = {p.pid: p for p in roots}
        for root in roots:
            try:
                found.update({c.pid: c for c in root.children(recursive=True)})
            except psutil.Error:
                pass
        return list(found.values())

    def workers_running(self, function: str) -> list["psutil.Process"]:
        """Worker processes executing ``function`` now (Ray titles them ``ray::NAME``)."""
        out = []
        for proc in self.processes():
            try:
                if proc.cmdline()[:1] == [f"ray::{function}"]:
                    out.append(proc)
            except psutil.Error:
                pass
        return out


def _free_ports(count: int) -> list[int]:
    """Free ports outside 10002-19999 (Ray's worker ports)."""
    out: list[int] = []
    while len(out) < count:
        port = random.randint(20000, 39999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in out:
            out.append(port)
    return out


def _node_ports(ports: list[int]) -> list[str]:
    names = ["dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port",
             "metrics-export-port", "node-manager-port", "object-manager-port"]
    return [f"--{name}={port}" for name, port in zip(names, ports)]


def _start(cluster: Cluster, args: list[str], attempts: int = 3) -> None:
    """``ray start ARGS``; again (after stopping what it left) when it fails:
    Ray gives a raylet 30 s to register, which a loaded machine can miss."""
    for attempt in range(attempts):
        before = {p.pid for p in cluster.processes()}
        proc = subprocess.run([RAY, "start", *args], env=cluster.env, capture_output=True, text=True, timeout=600)
        if proc.returncode == 0:
            return
        _stop([p for p in cluster.processes() if p.pid not in before])
    raise AssertionError(f"ray start failed {attempts} times; the last time:\n{proc.stdout}{proc.stderr}")


def _stop(procs: list["psutil.Process"]) -> None:
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    temp = tempfile.mkdtemp(prefix="hcray", dir="/tmp")  # short: Ray puts Unix sockets under it
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    port, client, *ports = _free_ports(14)
    cluster = Cluster(f"127.0.0.1:{port}", env, temp)
    common = ["--node-ip-address=127.0.0.1", "--disable-usage-stats", f"--temp-dir={temp}"]
    try:
        _start(cluster, ["--head", f"--port={port}", f"--ray-client-server-port={client}", "--num-cpus=1",
                         "--include-dashboard=false", *common, *_node_ports(ports[:6])])
        _start(cluster, [f"--address={cluster.address}", "--num-cpus=2", *common, *_node_ports(ports[6:])])
        yield cluster
    finally:
        _stop(cluster.processes())
        shutil.rmtree(temp, ignore_errors=True)
