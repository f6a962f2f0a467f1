"""The fleet playbook for real (`make test-fleet`): ansible-core fans out over SSH to three hosts on this machine, an
sshd each on its own loopback address (127.0.0.2-4, a host key and authorized_keys made here), and each host
installs the wheel built from this checkout into its own venv and benchmarks its own embedded runtime with its own
data folder. A fourth host's port is closed: it is recorded as unreachable while the rest go on. The merged report
is then checked against the raw request lines that came home.

Needs root (sshd), sshd and ssh-keygen (`apt-get install openssh-server`) and ansible-core (`pip install
ansible-core`); `make test-fleet` installs them, and sets FL_TUI_FLEET_REQUIRED so that a missing one fails there
instead of skipping."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import FL_TUI, REPO
from waiting import until_sync

pytestmark = pytest.mark.fleet

SSHD = "/usr/sbin/sshd"
ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
CLOSED = "127.0.0.5"  # nothing listens there: the unreachable host
MODEL = "fl-demo-fast-generic-cpu:1"


def _missing() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return "sshd hosts need root"
    if not Path(SSHD).is_file() or shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        return "no sshd or ssh-keygen (apt-get install openssh-server)"
    if not (Path(sys.executable).parent / "ansible-playbook").is_file():
        return "no ansible-playbook beside this Python (pip install ansible-core)"
    return None


@pytest.fixture(scope="module", autouse=True)
def tools():
    why = _missing()
    if why and os.environ.get("FL_TUI_FLEET_REQUIRED"):
        pytest.fail(why)
    if why:
        pytest.skip(why)


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Host:
    name: str
    address: str
    port: int
    folder: Path  # everything of this host's: its fleet root (venv, run), its fl-tui home, ansible's temp files
    sshd: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.folder / "sshd.log"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three sshd hosts and a closed port, an inventory naming all four, and a wheel of this checkout."""
    work = tmp_path_factory.mktemp("fleet")
    keys = work / "keys"
    keys.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"fl-tui-{name}", "-f",
                        str(keys / name)], check=True)
    shutil.copyfile(keys / "client.pub", keys / "authorized_keys")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    hosts = [Host(f"box-{i}", address, free_port(address), work / f"box-{i}") for i, address in enumerate(ADDRESSES, 1)]
    hosts.append(Host("box-gone", CLOSED, free_port(CLOSED), work / "box-gone"))
    known = []
    try:
        for host in hosts[:-1]:
            host.folder.mkdir()
            config = host.folder / "sshd_config"
            config.write_text("\n".join([
                f"ListenAddress {host.address}:{host.port}", f"HostKey {keys / 'host'}",
                f"AuthorizedKeysFile {keys / 'authorized_keys'}", "PasswordAuthentication no",
                "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "UsePAM no",
                "StrictModes no", "PidFile none", "Subsystem sftp internal-sftp", ""]), encoding="utf-8")
            host.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                         stderr=host.log.open("w"))
            known.append(f"[{host.address}]:{host.port} {(keys / 'host.pub').read_text().split(' fl-tui')[0]}")
        for host in hosts[:-1]:
            until_sync(lambda h=host: listening(h.address, h.port), f"sshd on {host.address}:{host.port}")
        (keys / "known_hosts").write_text("\n".join(known) + "\n", encoding="utf-8")
        inventory = work / "inventory.yml"
        inventory.write_text(json.dumps({"all": {"hosts": {h.name: {
            "ansible_host": h.address, "ansible_port": h.port, "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys / "client"),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={keys / 'known_hosts'} -o StrictHostKeyChecking=yes "
                                       "-o IdentitiesOnly=yes",
            "ansible_python_interpreter": "/usr/bin/python3",  # the system's, as on a real box
            "ansible_remote_tmp": str(h.folder / "ansible-tmp"), "ansible_async_dir": str(h.folder / "async"),
            "fleet_root": str(h.folder / "fleet"), "fleet_python": str(Path(sys.base_prefix, "bin", "python3")),
            "fleet_poll": 1,
            "fleet_env": {"FL_TUI_HOME": str(h.folder / "home"), "FL_TUI_ENDPOINT": "embedded",
                          "FL_TUI_CATALOG": "offline"},
        } for h in hosts}}}, indent=2), encoding="utf-8")  # JSON is YAML
        yield work, inventory, hosts, wheel_of_this_checkout(work)
    finally:
        for host in hosts:
            if host.sshd is not None:
                host.sshd.terminate()
                host.sshd.wait(timeout=30)


def wheel_of_this_checkout(work: Path) -> Path:
    """Built from a copy of the working tree, as tests/cli/test_install.py builds it (the build writes into its
    source)."""
    src = work / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                              "tests"))
    env = {**os.environ, "HOME": str(work / "pip-home")}  # pip's own helpers write dot-folders into HOME
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(work / "dist"), str(src)], check=True, capture_output=True, timeout=300, env=env)
    (wheel,) = (work / "dist").glob("fl_tui-*.whl")
    return wheel


def fleet_run(work: Path, inventory: Path, out: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """`fl-tui fleet run` as a person runs it, with Ansible's own files kept in the test's folder."""
    env = {**os.environ, "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
           "ANSIBLE_REMOTE_TEMP": str(work / "controller-tmp"),  # the controller's own plays (localhost) put it here
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_SSH_CONTROL_PATH_DIR": str(work / "ansible-cp"),
           "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=2s"}  # no connection outlives the test
    started = time.monotonic()
    done = subprocess.run([*FL_TUI, "fleet", "run", str(inventory), "--out", str(out), *args], capture_output=True,
                          text=True, timeout=1200, env=env, cwd=work)
    return done, time.monotonic() - started


def measured(folder: Path, metric: str) -> list[float]:
    """The oracle's sample from a host's raw requests.jsonl, read with json alone."""
    rows = [json.loads(line) for line in (folder / "requests.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r[metric] for r in rows if r["model"] == MODEL and not r["warmup"] and r["status"] == "ok"]


def test_three_hosts_benchmark_themselves_and_one_unreachable_is_recorded(fleet, capsys):
    work, inventory, hosts, wheel = fleet
    out = work / "run-1"
    prompts = work / "our-prompts.json"  # one prompt set of the controller's, copied to every host
    prompts.write_text(json.dumps(["Name a colour.", "Count to three."]), encoding="utf-8")
    done, seconds = fleet_run(work, inventory, out, "--models", "fl-demo-fast", "--prompts", str(prompts), "--rounds",
                              "2", "--wheel", str(wheel), "--bench-args", "--timeout 60", "--bench-timeout", "600")
    with capsys.disabled():
        print(f"\nfleet: 3 hosts and an unreachable one, install to merged report, in {seconds:.1f} s")
    assert done.returncode == 1, done.stderr[-4000:]  # one host unreachable
    assert "fleet: 3 of 4 hosts ok (box-gone unreachable)" in done.stderr

    record = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    outcomes = {h["host"]: h for h in record["hosts"]}
    assert {name: h["outcome"] for name, h in outcomes.items()} == {
        "box-1": "ok", "box-2": "ok", "box-3": "ok", "box-gone": "unreachable"}
    assert f"{CLOSED} port {hosts[-1].port}" in outcomes["box-gone"]["error"]
    assert all(outcomes[h.name]["seconds"] > 0 and outcomes[h.name]["error"] is None for h in hosts[:-1])

    endpoints = set()
    for host in hosts[:-1]:
        # reached through its own sshd, installed into its own venv, measured with its own data folder
        assert "Accepted publickey for root" in host.log.read_text(encoding="utf-8")
        assert (host.folder / "fleet" / "venv" / "bin" / "fl-tui").is_file()
        assert (host.folder / "home" / "data" / "demo-models").is_dir()
        run = json.loads((out / host.name / "run.json").read_text(encoding="utf-8"))
        assert run["backend"] == "embedded" and [m["status"] for m in run["models"]] == ["ok"]
        assert run["settings"]["timeout_s"] == 60 and run["settings"]["rounds"] == 2
        assert [p["prompt"] for p in run["prompts"]] == ["Name a colour.", "Count to three."]
        endpoints.add(run["endpoint"])
    assert len(endpoints) == 3  # three embedded runtimes, each on a port of its own
    assert not (out / "box-gone").exists()

    report = json.loads((out / "fleet-report.json").read_text(encoding="utf-8"))
    (pooled,) = report["pooled"]
    assert pooled["model"] == MODEL and pooled["hosts"] == ["box-1", "box-2", "box-3"]
    for metric in ("ttft_ms", "e2e_ms"):
        sample = [v for host in hosts[:-1] for v in measured(out / host.name, metric)]
        assert pooled["summary"][metric]["n"] == len(sample) == 3 * 2 * 2  # hosts x prompts x rounds
        for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
            assert pooled["summary"][metric][key] == pytest.approx(np.percentile(sample, q, method="linear"))
    assert [(h["host"], h["outcome"]) for h in report["hosts"]] == [
        ("box-1", "ok"), ("box-2", "ok"), ("box-3", "ok"), ("box-gone", "unreachable")]
    assert done.stdout.startswith("# fl-tui fleet report run-1")
    assert "| box-2 | fl-demo-fast-generic-cpu:1 | ok | 4/4 |" in done.stdout


def test_a_host_past_its_time_bound_is_stopped_and_recorded_as_failed(fleet):
    """The benchmark's bound ends it on the host (Ansible's async job is killed there), and the host is failed."""
    work, inventory, hosts, wheel = fleet
    out = work / "run-slow"
    done, _ = fleet_run(work, inventory, out, "--limit", "box-1", "--models", "fl-demo-slow", "--prompts", "quick",
                        "--rounds", "5", "--wheel", str(wheel), "--bench-timeout", "3")
    assert done.returncode == 1, done.stderr[-4000:]
    (entry,) = json.loads((out / "fleet.json").read_text(encoding="utf-8"))["hosts"]
    assert entry["host"] == "box-1" and entry["outcome"] == "failed"
    assert "Benchmark the host against its own Foundry Local: stopped on the host at its bound of 3 s" in entry["error"]
    venv = str(hosts[0].folder / "fleet" / "venv")

    def still_running() -> list[str]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # it ended while we looked
                continue
            if proc.name.isdigit() and venv in command and " bench " in command:
                found.append(command)
        return found

    until_sync(lambda: not still_running(), "the timed-out benchmark to be stopped on the host")
