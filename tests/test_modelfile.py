"""Model files round-trip bit for bit; corrupt, edited or malicious files are refused."""

import io
import json
import os

import numpy as np
import pytest
import torch

import snsurrogate
from snsurrogate.errors import ModelFileError
from snsurrogate.modelfile import _checksum, to_bytes


@pytest.fixture(scope="module")
def model():
    eps = np.linspace(-0.02, 0.02, 40)
    return snsurrogate.fit((eps, 800 * np.tanh(eps / 0.01)), stress_unit="MPa", hidden=(8, 8), epochs=40)


def rewrite(path, edit, fix_checksum):
    payload = torch.load(path, weights_only=True)
    edit(payload)
    if fix_checksum:
        payload["checksum"] = _checksum(payload["metadata"], payload["tensors"])
    torch.save(payload, path)


def test_round_trip_is_bit_identical(model, tmp_path):
    path = tmp_path / "m.pt"
    snsurrogate.save(model, path)
    loaded = snsurrogate.load(path)
    for (name, a), b in zip(model.network.state_dict().items(), loaded.network.state_dict().values()):
        assert a.dtype == b.dtype and torch.equal(a, b), name
    x = torch.linspace(-0.05, 0.05, 101)[:, None]
    assert torch.equal(model(x), loaded(x))
    assert loaded.lipschitz_bound == model.lipschitz_bound
    assert isinstance(loaded.lipschitz_bound, float)
    assert loaded.summary == model.summary
    assert to_bytes(loaded) == path.read_bytes()


def test_model_file_records_what_the_issue_requires(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    payload = torch.load(path, weights_only=True)
    md = json.loads(payload["metadata"])
    assert md["architecture"]["hidden"] == [8, 8]
    assert md["units"]["stress"] == "MPa"
    assert md["columns"]["strain"] and md["columns"]["stress"]
    assert len(md["data"]["sha256"]) == 64
    assert md["package_version"] == snsurrogate.__version__
    assert md["lipschitz_bound"] == model.lipschitz_bound
    assert md["architecture"]["strain_scale"] > 0 and md["architecture"]["stress_scale"] > 0


def test_edited_weights_are_detected_by_the_checksum(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    rewrite(path, lambda p: p["tensors"]["linears.0.weight"].mul_(1.5), fix_checksum=False)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        snsurrogate.load(path)


def test_edited_weights_with_a_forged_checksum_fail_the_certificate(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    rewrite(path, lambda p: p["tensors"]["linears.1.weight"].mul_(3.0), fix_checksum=True)
    with pytest.raises(ModelFileError, match="certificate check failed"):
        snsurrogate.load(path)


def test_a_lowered_bound_in_the_metadata_fails_the_certificate(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)

    def lower(p):
        md = json.loads(p["metadata"])
        md["lipschitz_bound"] *= 0.5
        p["metadata"] = json.dumps(md, sort_keys=True)

    rewrite(path, lower, fix_checksum=True)
    with pytest.raises(ModelFileError, match="certificate check failed"):
        snsurrogate.load(path)


def test_a_file_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "snsurrogate.model", "x": Exploit()}, path)
    with pytest.raises(ModelFileError, match="refused to load") as info:
        snsurrogate.load(path)
    assert not marker.exists()
    assert "system" in str(info.value) and "weights_only" not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04 truncated zip"])
def test_garbage_and_truncated_files_are_refused(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="bad.pt"):
        snsurrogate.load(path)


def test_truncated_model_file_is_refused(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        snsurrogate.load(path)


def test_foreign_torch_file_and_missing_file(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(ModelFileError, match="not a snsurrogate model file"):
        snsurrogate.load(path)
    with pytest.raises(ModelFileError, match="no such model file"):
        snsurrogate.load(tmp_path / "missing.pt")


def test_a_failed_save_leaves_the_previous_file_intact(model, tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    path.write_bytes(b"previous contents")

    monkeypatch.setattr("snsurrogate.modelfile.write_bytes", lambda p, data: _fail_midway(p, data))
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == b"previous contents"
    assert sorted(os.listdir(tmp_path)) == ["m.pt"]


def _fail_midway(path, data):
    from fem.atomic import atomic_open

    with atomic_open(path, "wb") as fh:
        fh.write(data[:10])
        raise OSError("disk full")


def test_models_are_callable_with_shape_checks(model):
    with pytest.raises(ValueError, match=r"shape \(n, 1\)"):
        model(torch.zeros(3, 2))
    out = model(torch.zeros(5, 1, dtype=torch.float64))
    assert out.shape == (5, 1)
    buf = io.StringIO()
    print(model, file=buf)
    assert "spectrally normalized" in buf.getvalue()


@pytest.mark.parametrize("content", [bytes(range(256)) * 8, b"\x80\x04\x95garbage", b"hello world\n", b""])
def test_random_bytes_are_reported_as_corrupt_not_as_code(tmp_path, content):
    """Random bytes are not "objects that could run code"; and no message relays PyTorch's advice to
    re-run torch.load with weights_only=False."""
    path = tmp_path / "noise.pt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        snsurrogate.load(path)
    text = str(info.value)
    assert text.startswith(str(path)) and "corrupt or truncated" in text
    assert "could run code" not in text and "weights_only" not in text


def test_a_pickled_object_is_refused_by_name_without_the_weights_only_advice(tmp_path):
    path = tmp_path / "obj.pt"
    torch.save({"format": "snsurrogate.model", "x": _Plain()}, path)
    with pytest.raises(ModelFileError) as info:
        snsurrogate.load(path)
    text = str(info.value)
    assert "refused to load" in text and "_Plain" in text and "could run code" in text
    assert "weights_only" not in text


class _Plain:
    """An ordinary class: pickling it stores a global that ``weights_only`` loading refuses."""
