"""Model tests share the training tests' one-thread fixture (tiny models run fastest on one thread)."""

from tests.training.conftest import single_torch_thread  # noqa: F401  (autouse fixture, registered by import)
