"""Split a list of items into the ``JOB=1:N`` shards of Kaldi-style array jobs."""

from typing import List, Sequence, TypeVar

from toolkit.utils.errors import ToolkitError

T = TypeVar("T")


def shard(items: Sequence[T], num_jobs: int, job: int) -> List[T]:
    """Items of shard ``job`` (1-based) out of ``num_jobs`` contiguous, near-equal shards."""
    if num_jobs < 1:
        raise ToolkitError(f"--nj must be at least 1, got {num_jobs}")
    if not 1 <= job <= num_jobs:
        raise ToolkitError(f"--job must be between 1 and --nj={num_jobs} (1-based), got {job}")
    start = (len(items) * (job - 1)) // num_jobs
    stop = (len(items) * job) // num_jobs
    return list(items[start:stop])
