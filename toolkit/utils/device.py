"""Choose the torch device from ``--device auto|cpu|cuda[:N]`` (CUDA when present, else CPU)."""

from toolkit.utils.errors import ToolkitError


def resolve_device(name: str = "auto"):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ToolkitError(f"--device {name} was asked for, but torch sees no CUDA device; use --device cpu or auto")
    return torch.device(name)
