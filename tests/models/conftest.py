import pytest


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Tiny models run fastest on one thread, especially on a shared CI machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
