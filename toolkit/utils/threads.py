"""How many CPU threads this process may use, and the thread counts of torch, OpenMP and BLAS.

A thread pool sized for every core of the machine is what slows parallel jobs down: two training
jobs on 2 cores, each with 2 torch threads, made an epoch 25x slower (0.17 s to 4 s a batch).
So the default thread count is this process's *allotment*, the smallest of the limits that apply:

- its CPU affinity (``os.sched_getaffinity``: ``taskset``, Slurm's and Docker's cpusets);
- ``SLURM_CPUS_PER_TASK`` (a Slurm job step's ``--cpus-per-task``);
- the cgroup CPU quota of its cgroup and every ancestor (v2 ``cpu.max``; v1
  ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``: ``docker --cpus``, systemd ``CPUQuota``),
  rounded down (at least 1): threads beyond the quota are throttled at the end of every quota
  period, and a parallel region waits for its slowest thread;
- ``OMP_NUM_THREADS`` when set, as the launchers set it for each job (``recipes/utils/run_local.sh``
  divides the cores among the jobs running at once, ``torchrun`` sets 1 per process).

An explicit count (``toolkit --num-threads N``) replaces the allotment, even above it (with a
warning: the threads will compete for fewer CPUs).

Reads ``os.sched_getaffinity``, the environment, ``/proc/self/cgroup`` and the quota files under
the cgroup root (``/sys/fs/cgroup``; a parameter, so tests point it at a directory of their own).
``apply_threads`` writes the thread-count variables of OpenMP and the BLAS libraries into
``os.environ`` (they take effect in libraries loaded afterwards, and in child processes) and sets
torch's intra- and inter-op thread counts as soon as torch is imported, without importing it.
``python -m toolkit.utils.threads`` prints the allotment (``--why``: and where it comes from);
the local launcher divides it among its jobs. Nothing else is written.

``scipy_own_blas_single_threaded`` limits, for a block of code, the BLAS library that scipy bundles
for itself (pip's wheels) to one thread, leaving numpy's at the allotment: see its docstring.
"""

import importlib.abc
import importlib.util
import logging
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, MutableMapping, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")
#: Where cgroup v1 mounts the cpu controller, relative to the cgroup root (distributions differ).
CGROUP_V1_CPU_DIRS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")
#: The thread-count variables of OpenMP and of the BLAS libraries numpy and torch may load
#: (MKL, OpenBLAS, BLIS, Apple Accelerate).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")


@dataclass(frozen=True)
class CpuLimit:
    """One limit on the CPUs this process may use: where it comes from and how many CPUs it allows."""

    source: str
    cpus: int
    detail: str = ""

    def describe(self) -> str:
        return f"{self.source} {self.cpus}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class ThreadAllotment:
    """The thread count chosen for this process, the limits it was chosen from, and whether
    ``--num-threads`` gave it."""

    threads: int
    limits: Tuple[CpuLimit, ...]
    explicit: bool = False

    @property
    def allotted(self) -> int:
        """The smallest limit: what the process may use whatever ``--num-threads`` says."""
        return min(limit.cpus for limit in self.limits)

    @property
    def reason(self) -> str:
        limits = ", ".join(limit.describe() for limit in self.limits)
        if self.explicit:
            return f"{self.threads} from --num-threads (the allotment would be {self.allotted}: smallest of {limits})"
        if len(self.limits) == 1:
            return f"{self.threads}: {limits}"
        binding = next(limit.source for limit in self.limits if limit.cpus == self.threads)
        return f"{self.threads}, set by {binding}: the smallest of {limits}"


def _positive_int(text: Optional[str]) -> Optional[int]:
    try:
        value = int(str(text).strip())
    except ValueError:
        return None
    return value if value > 0 else None


def affinity_limit() -> CpuLimit:
    """The CPUs this process may be scheduled on (all CPUs where the OS has no affinity API)."""
    if hasattr(os, "sched_getaffinity"):
        return CpuLimit("CPU affinity", len(os.sched_getaffinity(0)))
    return CpuLimit("CPU count", os.cpu_count() or 1)


def slurm_limit(environ: Mapping[str, str]) -> Optional[CpuLimit]:
    value = _positive_int(environ.get("SLURM_CPUS_PER_TASK"))
    return None if value is None else CpuLimit("SLURM_CPUS_PER_TASK", value)


def omp_limit(environ: Mapping[str, str]) -> Optional[CpuLimit]:
    """``OMP_NUM_THREADS``; a nested list such as ``4,2`` gives the outermost level's count."""
    text = environ.get("OMP_NUM_THREADS")
    if text is None:
        return None
    value = _positive_int(text.split(",")[0])
    if value is None:
        logger.debug("ignoring OMP_NUM_THREADS=%r: not a positive integer", text)
        return None
    return CpuLimit("OMP_NUM_THREADS", value)


def _own_cgroups(self_cgroup: Path) -> Dict[str, str]:
    """This process's cgroup path per hierarchy: key "" for v2, "cpu" for v1's cpu controller."""
    paths: Dict[str, str] = {}
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            paths[""] = path
        elif "cpu" in controllers.split(","):
            paths["cpu"] = path
    return paths


def _cgroup_dirs(base: Path, own_path: Optional[str]) -> List[Path]:
    """The process's cgroup directory under ``base`` and every ancestor up to ``base``.

    Inside a container without a cgroup namespace, ``/proc/self/cgroup`` names the host's path,
    which does not exist under the container's mount; the mount itself is then the container's cgroup.
    """
    start = base / (own_path or "/").lstrip("/")
    if not start.is_dir():
        start = base
    dirs = [start]
    while dirs[-1] != base and base in dirs[-1].parents:
        dirs.append(dirs[-1].parent)
    return dirs


def _read_quota(directory: Path) -> Optional[Tuple[float, Path]]:
    """(CPUs, file) of a cgroup directory's quota, None without one (v2 "max", v1 -1, no file)."""
    v2 = directory / "cpu.max"
    try:
        if v2.is_file():
            quota, _, period = v2.read_text().strip().partition(" ")
            if quota == "max":
                return None
            return int(quota) / int(period or 100000), v2
        v1 = directory / "cpu.cfs_quota_us"
        if v1.is_file():
            quota = int(v1.read_text().strip())
            period = int((directory / "cpu.cfs_period_us").read_text().strip())
            return (quota / period, v1) if quota > 0 and period > 0 else None
    except (OSError, ValueError) as error:
        logger.debug("cannot read the CPU quota in %s: %s", directory, error)
    return None


def cgroup_limit(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> Optional[CpuLimit]:
    """The tightest CPU quota of this process's cgroup and its ancestors (v2 and v1), None without one."""
    root = Path(root)
    own = _own_cgroups(Path(self_cgroup))
    dirs = _cgroup_dirs(root, own.get(""))
    for name in CGROUP_V1_CPU_DIRS:
        if (root / name).is_dir():
            dirs += _cgroup_dirs(root / name, own.get("cpu"))
            break
    quotas = [quota for quota in map(_read_quota, dirs) if quota is not None]
    if not quotas:
        return None
    cpus, path = min(quotas)
    return CpuLimit("cgroup CPU quota", max(1, math.floor(cpus)), f"{cpus:g} CPUs in {path}")


def cpu_limits(environ: Optional[Mapping[str, str]] = None, cgroup_root: Path = CGROUP_ROOT,
               self_cgroup: Path = SELF_CGROUP) -> List[CpuLimit]:
    """Every limit that applies to this process, the affinity (always known) first."""
    environ = os.environ if environ is None else environ
    found = [affinity_limit(), slurm_limit(environ), cgroup_limit(cgroup_root, self_cgroup), omp_limit(environ)]
    return [limit for limit in found if limit is not None]


def choose_threads(num_threads: Optional[int] = None, environ: Optional[Mapping[str, str]] = None,
                   cgroup_root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> ThreadAllotment:
    """``num_threads`` when given (``--num-threads``), otherwise the smallest limit that applies."""
    limits = tuple(cpu_limits(environ, cgroup_root, self_cgroup))
    if num_threads is not None:
        if num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {num_threads}")
        return ThreadAllotment(num_threads, limits, explicit=True)
    return ThreadAllotment(min(limit.cpus for limit in limits), limits)


def thread_environment(allotment: ThreadAllotment, environ: Mapping[str, str]) -> Dict[str, str]:
    """The thread-count variables to set: every one of ``THREAD_VARIABLES`` gets the count, except
    that a library's own variable already set lower is kept (unless the count is explicit)."""
    changes = {}
    for name in THREAD_VARIABLES:
        current = _positive_int(environ.get(name))
        if allotment.explicit or current is None or current > allotment.threads:
            changes[name] = str(allotment.threads)
    return changes


def apply_threads(allotment: ThreadAllotment, environ: Optional[MutableMapping[str, str]] = None) -> None:
    """Give OpenMP, BLAS and torch the allotment's thread count; log it and why.

    Call it before numpy and torch are imported: OpenMP and OpenBLAS read their variables once,
    when they are loaded. torch is configured when it is imported (at once if it already is).
    """
    environ = os.environ if environ is None else environ
    environ.update(thread_environment(allotment, environ))
    logger.debug("threads for torch, OpenMP and BLAS: %s", allotment.reason)
    if allotment.explicit and allotment.threads > allotment.allotted:
        logger.warning("--num-threads %d is more than the %d CPU(s) this process may use; its threads will "
                       "compete for them and run slower than with %d", allotment.threads, allotment.allotted,
                       allotment.allotted)
    threads = allotment.threads
    when_imported("torch", lambda torch: _configure_torch(torch, threads))


def _configure_torch(torch, threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError as error:
        # Allowed once per process and only before inter-op work starts; a process that already
        # started it (a second command run in the same process) keeps its pool.
        logger.debug("torch inter-op threads stay at %d: %s", torch.get_num_interop_threads(), error)


#: Callbacks waiting for a module's first import, by module name (see ``when_imported``).
_PENDING: Dict[str, Callable] = {}


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Runs a pending callback right after its module has executed. Importing torch costs seconds,
    and quick commands never import it, so its thread counts are set when something imports it."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None, target=None):
        callback = _PENDING.pop(fullname, None)
        if callback is None:
            return None
        # With the callback popped, this search skips the watcher and asks the other finders.
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_then_call(module):
            execute(module)
            callback(module)

        spec.loader.exec_module = exec_then_call
        return spec


_WATCHER = _ImportWatcher()


def when_imported(name: str, callback: Callable) -> None:
    """Call ``callback(module)`` once the top-level module ``name`` is imported: now if it already
    is, otherwise right after its import (a later call replaces a callback still waiting)."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    _PENDING[name] = callback
    if _WATCHER not in sys.meta_path:
        sys.meta_path.insert(0, _WATCHER)


def scipy_own_blas_single_threaded():
    """A context manager (threadpoolctl's) in which the BLAS libraries bundled inside scipy's own
    installation run one thread, and every other BLAS (numpy's, the one that does a fit's large
    matrix products) keeps its thread count.

    Why: pip's numpy and scipy wheels each bundle an OpenBLAS with its own thread pool. scipy's
    L-BFGS-B (behind scikit-learn's ``LogisticRegression``) calls scipy's BLAS for small vector
    updates, alternating with the gradient's products in numpy's; after each call a pool's threads
    keep spinning on the cores the other pool needs (scipy/scipy#22438). On 2 cores the probe's fit
    ran 3.7-8x slower for it (benchmarks/bench_probe_blas_threads.py); limiting every BLAS to one
    thread, the usual advice, also gives up numpy's threads for the products and was slower than
    this from 400 training rows on. Where numpy and scipy share one BLAS outside scipy's
    directory (conda, MKL), there is no second pool and nothing is limited.
    """
    import scipy.optimize  # loads scipy's BLAS, so that threadpoolctl finds it
    from threadpoolctl import ThreadpoolController

    scipy_dir = Path(scipy.__file__).resolve().parent
    # auditwheel puts a wheel's bundled libraries next to the package, in scipy.libs/
    own_dirs = (scipy_dir, scipy_dir.parent / "scipy.libs")
    blas = ThreadpoolController().select(user_api="blas")
    own = [library.filepath for library in blas.lib_controllers
           if any(Path(library.filepath).resolve().is_relative_to(directory) for directory in own_dirs)]
    return blas.select(filepath=own).limit(limits=1)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the allotment (``--why``: with the limits it comes from); used by the launchers."""
    argv = sys.argv[1:] if argv is None else list(argv)
    allotment = choose_threads()
    print(allotment.reason if "--why" in argv else allotment.threads)


if __name__ == "__main__":
    main()
