import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Every test starts from the same global RNG state and with the default dtype."""
    torch.manual_seed(1234)
    yield
