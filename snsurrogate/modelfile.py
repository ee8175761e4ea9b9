"""Model files: a format that loading cannot turn into code execution, with a re-checked certificate.

Layout (written with ``torch.save``, read with ``torch.load(..., weights_only=True)``, which only
rebuilds tensors and plain containers and refuses any other object)::

    {
      "format": "snsurrogate.model",
      "format_version": 1, 2 or 3,    # 1: an "mlp" law, 2: a "potential" law, 3: a "hyperelastic" law
      "metadata": "<JSON text>",      # architecture, units, columns, data SHA-256, bound, package version, ...
      "tensors": {"linears.0.weight": Tensor, ...},
      "checksum": "<hex SHA-256 of the metadata text and every tensor's name, dtype, shape and bytes>",
    }

Loading re-checks everything: the structure, the architecture, tensor names, shapes and dtypes,
finiteness, the checksum, and the certificate: the bound recomputed from the stored weights must equal
the stored ``lipschitz_bound`` (relative 1e-9), and a spectrally normalized model must not exceed its
Lipschitz target. A hyperelastic law (:class:`~snsurrogate.hyperelastic.law.HyperelasticLaw`, version 3:
its 1-D stretch-energy network, or the unconstrained 1 -> 1 MLP of
:mod:`snsurrogate.hyperelastic.unconstrained`, ``kappa`` in the metadata) is audited again on load
(:func:`snsurrogate.hyperelastic.certificate.audit`: ``w''`` by autograd over its data's stretch range and
beyond, and the state bound at random deformations) and must reproduce the stored audit's largest ``w''``.

What this does and does not promise: the checksum catches corruption and naive edits (changing a
weight, the bound or the target alone). It is not a signature: someone who edits the weights, the
bound, the target and the checksum together produces a file that loads. The certificate is safe even
then, because the bound a loaded law uses is always recomputed from the weights it holds; what such
an edit can change is the law itself and its recorded provenance, which only a signature would protect.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import torch

from fem.atomic import write_bytes

from .errors import ModelFileError
from .model import SurrogateModel
from .network import Architecture, build_network

FORMAT = "snsurrogate.model"
FORMAT_VERSION = 2
#: Versions this package reads: 1 (``"mlp"`` laws, written by every version), 2 (``"potential"`` laws) and
#: 3 (``"hyperelastic"`` laws).
READABLE_VERSIONS = (1, 2, 3)
HYPERELASTIC_VERSION = 3
#: Random deformations the load-time audit of a hyperelastic law checks (the fit checks more).
LOAD_AUDIT_STATES = 24
_DTYPES = {"torch.float32": torch.float32, "torch.float64": torch.float64}


def _checksum(metadata_text: str, tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256(metadata_text.encode("utf-8"))
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"\n{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _version(model) -> int:
    if model.kind == "hyperelastic":
        return HYPERELASTIC_VERSION
    return FORMAT_VERSION if model.kind == "potential" else 1  # older readers keep reading MLPs


def to_bytes(model) -> bytes:
    """Serialise ``model`` (a :class:`SurrogateModel` or a hyperelastic law) to the bytes of a model file."""
    tensors = {k: v.detach().cpu().clone() for k, v in model.network.state_dict().items()}
    metadata = dict(model.metadata)
    metadata["format"] = FORMAT
    metadata["architecture"] = model.arch.to_dict()
    metadata["dtype"] = str(model.dtype)
    metadata["lipschitz_bound"] = model.lipschitz_bound
    if model.kind == "hyperelastic":
        metadata["law"] = "hyperelastic"
        metadata["kappa"] = model.kappa
    text = json.dumps(metadata, sort_keys=True, allow_nan=False)
    payload = {
        "format": FORMAT,
        "format_version": _version(model),
        "metadata": text,
        "tensors": tensors,
        "checksum": _checksum(text, tensors),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def save(model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` atomically (a temporary file renamed over the destination)."""
    write_bytes(path, to_bytes(model))


def load(path: str | os.PathLike[str]):
    """Load a model file written by :func:`save`, re-checking its integrity and certificate: a
    :class:`SurrogateModel`, or a :class:`~snsurrogate.hyperelastic.law.HyperelasticLaw` for a law fitted to
    test modes (``law.nominal_stress(mode, x)``, ``law.first_piola(F)``).

    Raises
    ------
    ModelFileError
        Missing, unreadable, corrupt, edited or foreign file, or a failed certificate check.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file" if not path.exists() else f"{path}: not a file")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of foreign files
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError,
            IndexError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: {_refusal(exc)}") from None
    return _from_payload(payload, str(path))


def _refusal(exc: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` refused a file, in our words.

    Only a file that names a Python global (a class or function to call while unpickling) is reported as
    holding objects that could run code; anything else that fails is corrupt, truncated or not a model
    file at all. PyTorch's own text is never passed on: it suggests ``weights_only=False``, which would
    let a malicious file run code, and nobody should be told to do that with a file they cannot vouch for.
    """
    text = str(exc)
    found = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) (\S+)", text)
    if found:
        return (f"refused to load: the file holds Python objects other than tensors and plain data "
                f"(it names {found.group(1)!r}); it is not a snsurrogate model file, and loading such objects "
                "could run code")
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    detail = "" if "weights_only" in text or len(first) > 200 else f" ({first})"
    return f"not a readable snsurrogate model file (corrupt or truncated, or not a model file at all){detail}"


def _from_payload(payload, where: str):
    def bad(msg: str) -> ModelFileError:
        return ModelFileError(f"{where}: {msg}")

    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise bad("not a snsurrogate model file (no 'format': 'snsurrogate.model' entry)")
    if payload.get("format_version") not in READABLE_VERSIONS:
        version = payload.get("format_version")
        raise bad(f"model format version {version!r} is not supported (this version reads "
                  f"{', '.join(map(str, READABLE_VERSIONS))})")
    text, tensors, checksum = payload.get("metadata"), payload.get("tensors"), payload.get("checksum")
    if not isinstance(text, str) or not isinstance(tensors, dict) or not isinstance(checksum, str):
        raise bad("damaged model file: missing metadata, tensors or checksum")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()):
        raise bad("damaged model file: the tensor table holds something other than named tensors")
    if _checksum(text, tensors) != checksum:
        raise bad("checksum mismatch: the file was modified or corrupted after it was written")
    try:
        metadata = json.loads(text)
        arch = Architecture.from_dict(metadata["architecture"])
        dtype = _DTYPES[metadata["dtype"]]
        stored_bound = float(metadata["lipschitz_bound"])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad(f"damaged model metadata: {exc}") from None
    if arch.kind != "mlp" and payload.get("format_version") == 1:
        raise bad("damaged model metadata: a format-1 file holds only 'mlp' laws")
    net = build_network(arch, spectral=False).to(dtype)
    expected = {k: v.shape for k, v in net.state_dict().items()}
    got = {k: v.shape for k, v in tensors.items()}
    if expected != got:
        raise bad(f"the weights do not match the architecture: expected {expected}, found {got}")
    for name, t in tensors.items():
        if t.dtype != dtype:
            raise bad(f"tensor {name} has dtype {t.dtype}, expected {dtype}")
        if not torch.isfinite(t).all():
            raise bad(f"tensor {name} holds non-finite values")
    net.load_state_dict(tensors)
    if payload.get("format_version") == HYPERELASTIC_VERSION:
        return _hyperelastic(net, metadata, stored_bound, bad)
    model = SurrogateModel(net, metadata)
    if not math.isclose(model.lipschitz_bound, stored_bound, rel_tol=1e-9):
        raise bad(
            f"certificate check failed: the file states lipschitz_bound = {stored_bound!r}, "
            f"the stored weights give {model.lipschitz_bound!r}"
        )
    target = metadata.get("lipschitz_target")
    if metadata.get("constrained") and target is not None and model.lipschitz_bound > float(target) * (1 + 1e-6):
        raise bad(f"certificate check failed: bound {model.lipschitz_bound!r} exceeds the model's target {target!r}")
    return model


def _hyperelastic(net, metadata: dict, stored_bound: float, bad):
    """A version-3 file's :class:`~snsurrogate.hyperelastic.law.HyperelasticLaw`, its certificate re-checked."""
    from fem.errors import CertificateError

    from .hyperelastic.certificate import audit
    from .hyperelastic.law import HyperelasticLaw

    if metadata.get("law") != "hyperelastic" or net.arch.d_in != 1 or net.arch.d_out != 1:
        raise bad("damaged model metadata: a format-3 file holds a hyperelastic law with a 1-D potential network "
                  "(or an unconstrained 1 -> 1 MLP)")
    try:
        kappa = float(metadata["kappa"])
        stored = metadata["certificate"]
        lo, hi = (float(v) for v in stored["stretch_range"])
        stored_w2 = float(stored["largest_w2_data"])
        law = HyperelasticLaw(net, kappa, metadata)
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"damaged model metadata: {exc}") from None
    if not math.isclose(law.lipschitz_bound, stored_bound, rel_tol=1e-9):
        raise bad(f"certificate check failed: the file states lipschitz_bound = {stored_bound!r}, "
                  f"the stored weights give {law.lipschitz_bound!r}")
    try:
        again = audit(law, (lo, hi), states=LOAD_AUDIT_STATES)
    except CertificateError as exc:
        raise bad(f"certificate check failed: {exc}") from None
    if not math.isclose(again.largest_w2_data, stored_w2, rel_tol=1e-6):
        raise bad(f"certificate check failed: the stored audit found largest w'' = {stored_w2!r} over the data, "
                  f"the stored weights give {again.largest_w2_data!r}")
    return law
