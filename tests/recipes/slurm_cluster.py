"""A real single-node Slurm cluster for the launcher tests, and the set-up step that installs it.

``python3 tests/recipes/slurm_cluster.py install`` (run by ``make test`` through ``make
slurm-packages``, before pytest) installs Debian's ``munge slurmctld slurmd slurm-client`` when
they are missing, as root with apt-get; it prints what it did or why it could not, and never
fails, so a machine without Slurm still runs every other test. The ``slurm_cluster`` fixture only
starts the daemons (``SlurmCluster``), or skips naming what is missing.

``SlurmCluster`` writes its configuration, state, logs and PID files under one private directory;
``stop`` ends only the daemons it started (by their PID files). The daemons run as root.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

PACKAGES = ["munge", "slurmctld", "slurmd", "slurm-client"]
#: What the cluster runs (munged and the two daemons) and the clients it and the tests call.
TOOLS = ["munged", "slurmctld", "slurmd", "sinfo", "sbatch"]
MUNGE_PID_FILE = Path("/run/munge/munged.pid")
#: How long apt-get waits for another apt/dpkg run to release its lock (an image's own updates may hold it).
APT_LOCK_WAIT_SECONDS = 300
#: How long one apt-get step may take before the set-up gives up (seconds when nothing waits for a lock).
APT_STEP_SECONDS = 900


def _pid_alive(pid_file: Path) -> Optional[int]:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def missing_tools() -> List[str]:
    """The Slurm programs not found on PATH (empty when the cluster can be started)."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def install() -> str:
    """Install the Debian packages when a tool is missing; returns what was done or why not. Never raises."""
    missing = missing_tools()
    if not missing:
        return "Slurm test cluster: munge and Slurm are installed"
    skipped = f"the Slurm back-end tests will be skipped ({', '.join(missing)} not found)"
    if os.geteuid() != 0:
        return f"Slurm test cluster: not installing {' '.join(PACKAGES)}: needs root; {skipped}"
    if shutil.which("apt-get") is None:
        return (f"Slurm test cluster: no apt-get here (not Debian/Ubuntu), so {' '.join(PACKAGES)} cannot be "
                f"installed automatically; install munge and Slurm by hand to run them; {skipped}")
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    commands = [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
         "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT_SECONDS}", *PACKAGES],
    ]
    for command in commands:
        try:
            subprocess.run(command, check=True, env=environment, capture_output=True, text=True,
                           timeout=APT_STEP_SECONDS)
        except subprocess.CalledProcessError as error:
            detail = " / ".join((error.stderr or error.stdout or "").strip().splitlines()[-3:])
            return f"Slurm test cluster: '{' '.join(command)}' failed (exit {error.returncode}: {detail}); {skipped}"
        except subprocess.TimeoutExpired:
            return f"Slurm test cluster: '{' '.join(command)}' did not finish in {APT_STEP_SECONDS} s; {skipped}"
    still_missing = missing_tools()
    if still_missing:
        return (f"Slurm test cluster: installed {' '.join(PACKAGES)} but {', '.join(still_missing)} is not on PATH "
                f"({os.environ.get('PATH', '')}); the Slurm back-end tests will be skipped")
    return f"Slurm test cluster: installed {' '.join(PACKAGES)}"


class SlurmCluster:
    """slurmctld + slurmd on this host, configured in ``root``; ``environ`` points clients at it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.conf = self.root / "slurm.conf"
        self.node = socket.gethostname()
        self._started_munge = False

    @property
    def environ(self) -> dict:
        return {"SLURM_CONF": str(self.conf)}

    def _write_conf(self) -> None:
        hardware = subprocess.run(["slurmd", "-C"], check=True, capture_output=True, text=True).stdout
        node_line = next(line for line in hardware.splitlines() if line.startswith("NodeName="))
        node_line = node_line.replace(f"NodeName={self.node}", f"NodeName={self.node} NodeAddr=127.0.0.1", 1)
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "\n".join([
                "ClusterName=toolkit-test",
                f"SlurmctldHost={self.node}(127.0.0.1)",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_CPU",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "MailProg=/bin/true",
                "ReturnToService=2",
                # Quick scheduling so `sbatch --wait` of a short job returns in about a second.
                "MinJobAge=4",
                "SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1",
                f"StateSaveLocation={self.root / 'state'}",
                f"SlurmdSpoolDir={self.root / 'spool'}",
                f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
                f"SlurmdPidFile={self.root / 'slurmd.pid'}",
                f"SlurmctldLogFile={self.root / 'slurmctld.log'}",
                f"SlurmdLogFile={self.root / 'slurmd.log'}",
                node_line.strip(),
                f"PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
                "",
            ])
        )

    def _start_munge(self) -> None:
        if _pid_alive(MUNGE_PID_FILE):
            return
        run_dir = MUNGE_PID_FILE.parent
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(run_dir, "munge", "munge")
        run_dir.chmod(0o755)
        subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True, capture_output=True)
        self._started_munge = True

    def start(self, timeout: float = 30.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        self._start_munge()
        environment = dict(os.environ, **self.environ)
        # -c: a fresh state, so nothing from an earlier test run is revived.
        subprocess.run(["slurmctld", "-c", "-f", str(self.conf)], check=True, env=environment, capture_output=True)
        subprocess.run(["slurmd", "-f", str(self.conf), "-N", self.node], check=True, env=environment, capture_output=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["sinfo", "-h", "-N", "-o", "%t"], env=environment, capture_output=True, text=True
            ).stdout.strip()
            if state in ("idle", "mix", "alloc"):
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Slurm node did not become idle within {timeout} s (last state {state!r}); see {self.root}")

    def stop(self) -> None:
        pid_files = [self.root / "slurmd.pid", self.root / "slurmctld.pid"]
        if self._started_munge:
            pid_files.append(MUNGE_PID_FILE)
        for pid_file in pid_files:
            pid = _pid_alive(pid_file)
            if pid is None:
                continue
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if _pid_alive(pid_file) != pid:
                    break
                time.sleep(0.1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Set-up of the Slurm back-end tests (see the module docstring).")
    parser.add_argument("action", choices=["install"],
                        help="install Debian's munge and Slurm when missing (as root); never fails")
    parser.parse_args()
    print(install(), flush=True)
    sys.exit(0)
