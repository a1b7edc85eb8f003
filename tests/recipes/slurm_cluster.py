"""A real single-node Slurm cluster for the launcher tests: installs Debian's packages, starts the daemons.

Writes its configuration, state, logs and PID files under one private directory; ``stop`` ends only
the daemons this object started (by their PID files). Needs root (apt-get and the daemons run as root).
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional

PACKAGES = ["munge", "slurmctld", "slurmd", "slurm-client"]
MUNGE_PID_FILE = Path("/run/munge/munged.pid")


def _pid_alive(pid_file: Path) -> Optional[int]:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def install_packages() -> None:
    if all(shutil.which(tool) for tool in ("munged", "slurmctld", "slurmd", "sbatch")):
        return
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
        check=True, env=environment, capture_output=True,
    )


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
