"""Multi-process training under ``torchrun --nproc_per_node N`` (DDP), and the single-process case.

``torchrun`` sets RANK, WORLD_SIZE and LOCAL_RANK; we then join a process group (NCCL on GPUs,
gloo on CPU), give each process one device, and use the helpers below to combine per-process
results. Without those variables everything runs in one process and the helpers are no-ops.
The batch size in the config is per process. Reads and writes nothing.

DDP gets a process group of its own (``DistContext.gradient_group``). PyTorch never frees a group
that DDP has used, so its worker threads outlive ``destroy_process_group``; if the group that carried
our object collectives (whose tensors Python created) were that one, a worker could drop the last
reference to such a tensor while the interpreter shuts down, and CPython 3.11 aborts the process
("terminate called without an active exception", about one run in 25 under CPU load). Kept apart, the
default group is destroyed, and its threads joined, before the interpreter exits.
"""

import os
from dataclasses import dataclass
from typing import Any, List

from toolkit.utils.device import resolve_device
from toolkit.utils.errors import ToolkitError


@dataclass
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: Any
    gradient_group: Any = None  # the process group DDP synchronises gradients on

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_name: str = "auto") -> DistContext:
    """Join the torchrun process group if there is one; choose this process's device."""
    import torch
    import torch.distributed as dist

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(0, 1, 0, resolve_device(device_name))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ToolkitError(
                f"LOCAL_RANK {local_rank} has no GPU ({torch.cuda.device_count()} visible); "
                "lower --nproc_per_node or set CUDA_VISIBLE_DEVICES"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world_size, local_rank, device, gradient_group=dist.new_group())


def shutdown(context: DistContext) -> None:
    import torch.distributed as dist

    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()


def gather_objects(context: DistContext, value: Any) -> List[Any]:
    """Every process's ``value``, in rank order (a one-element list without DDP)."""
    if not context.enabled:
        return [value]
    import torch.distributed as dist

    gathered: List[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def broadcast_object(context: DistContext, value: Any) -> Any:
    """Rank 0's ``value`` on every process."""
    if not context.enabled:
        return value
    import torch.distributed as dist

    payload = [value]
    dist.broadcast_object_list(payload, src=0)
    return payload[0]


def barrier(context: DistContext) -> None:
    if context.enabled:
        import torch.distributed as dist

        dist.barrier()


def rank_batches(batches: List[List[int]], context: DistContext) -> List[List[int]]:
    """This process's share of the batches; shorter shares repeat their first batches so every
    process takes the same number of optimizer steps (DDP needs that)."""
    if not context.enabled:
        return batches
    share = batches[context.rank :: context.world_size]
    steps = -(-len(batches) // context.world_size)
    while share and len(share) < steps:
        share.append(share[len(share) % max(len(share), 1)])
    return share or batches[:steps]
