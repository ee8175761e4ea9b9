"""What ``snsurrogate fit`` writes: the model ``MODEL.pt``, the summary ``MODEL.json`` and the plot ``MODEL.png``,
as one set.

Output names: ``--out PATH`` gives the stem ``PATH`` without a ``.pt`` suffix; the model file is
``STEM.pt``, the summary ``STEM.json``, the plot ``STEM.png``.

The three files sit beside the user's other files, so they cannot be swapped in as one folder; instead
``MODEL.json`` is the set's commit record (:func:`write_outputs`):

1. temporary files left by an earlier, killed run (``.MODEL.pt.*.tmp``, ...) are removed;
2. all three files are written to temporary files beside their destinations and fsynced; a full disk
   or any other write error here leaves the previous set untouched (and no temporary file);
3. ``MODEL.json`` is replaced (atomically) by a record saying ``"status": "incomplete"``;
4. the model and the plot are renamed over ``MODEL.pt`` and ``MODEL.png``;
5. the real ``MODEL.json`` is renamed over the record: ``"status": "complete"`` with the SHA-256 of
   the ``MODEL.pt`` and ``MODEL.png`` it belongs with.

A run killed at any instant thus leaves the previous complete set, an explicitly incomplete one
(``MODEL.json`` says so), or the new complete set; :func:`output_set_status` (``snsurrogate info``)
tells which, and also recognises a set mixed by hand (checksums that do not match).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fem.atomic import atomic_path, pid_alive, write_bytes, write_text

from .errors import SnsurrogateError

if TYPE_CHECKING:
    import numpy as np

    from .model import SurrogateModel


class OutputWriteError(SnsurrogateError, OSError):
    """An output file could not be written (full disk, no permission, ...); the message names the file."""


def output_paths(out: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``(model, summary, plot)`` paths for ``--out``: ``STEM.pt``, ``STEM.json``, ``STEM.png``."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".pt" else out
    return stem.with_name(stem.name + ".pt"), stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".png")


def summary_document(model: SurrogateModel) -> dict:
    """The summary written to ``MODEL.json``: the fit summary plus a ``units`` table for its keys."""
    s = model.summary
    unit = model.stress_unit
    doc = {
        "units": {
            "lipschitz_bound": f"{unit} per unit strain",
            "lipschitz_empirical": f"{unit} per unit strain",
            "lipschitz_target": f"{unit} per unit strain",
            "steepest_data_slope": f"{unit} per unit strain",
            "rmse": unit,
            "rmse_validation": unit,
            "lipschitz_empirical_at": "strain [-] (engineering Voigt)",
            "seconds": "s (wall time)",
            "r2": "-",
            "tightness": "- (lipschitz_bound / lipschitz_empirical)",
            "at_bound": "- (true when the largest tangent found is within 2 % of the bound)",
        },
        **s,
        "columns": model.metadata.get("columns", {}),
        "data_notes": model.metadata.get("data", {}).get("notes", []),
    }
    return doc


def write_summary(model: SurrogateModel, path: str | os.PathLike[str]) -> None:
    """Write :func:`summary_document` as JSON, atomically (alone: not as the record of a set)."""
    write_text(path, json.dumps(summary_document(model), indent=2, sort_keys=False) + "\n")


def plot_fit(model: SurrogateModel, strain: np.ndarray, stress: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Write :func:`plot_png` to ``path`` atomically."""
    write_bytes(path, plot_png(model, strain, stress))


def plot_png(model: SurrogateModel, strain: np.ndarray, stress: np.ndarray) -> bytes:
    """Plot data against the fit, and the tangent against the certified bound; return the PNG bytes.

    One strain component: stress-strain curve (data points, fitted law over the data range and 10 %
    beyond) and the tangent ``d sigma / d eps`` along it. Several: measured against predicted stress
    for each component, and ``||C_t||_2`` at every data point.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    strain = np.asarray(strain, np.float64)
    stress = np.asarray(stress, np.float64)
    net = model.network
    dtype = model.dtype
    unit = model.stress_unit
    bound = model.lipschitz_bound
    s = model.summary
    label = "spectrally normalized" if model.constrained else "unconstrained"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    if model.d_in == 1:
        lo, hi = strain.min(), strain.max()
        pad = 0.1 * (hi - lo)
        # uniform samples plus every data strain and its midpoints: steep, narrow parts stay resolved
        xs = np.sort(strain[:, 0])
        grid = np.unique(np.concatenate((np.linspace(lo - pad, hi + pad, 600), xs, 0.5 * (xs[1:] + xs[:-1]))))
        g = torch.as_tensor(grid[:, None], dtype=dtype)
        with torch.no_grad():
            pred = net(g).double().numpy()
        tan = model.tangent(g).double().numpy()[:, :, 0]
        for j in range(model.d_out):
            name = model.stress_columns[j] if j < len(model.stress_columns) else f"stress {j}"
            ax1.plot(strain[:, 0], stress[:, j], "o", ms=3, alpha=0.6, label=f"data: {name}")
            ax1.plot(grid, pred[:, j], "-", lw=1.8, label=f"fit ({label})")
            ax2.plot(grid, tan[:, j], "-", lw=1.5, label=f"tangent d{name}/dε")
        ax1.axvspan(lo, hi, color="0.93", zorder=-1, label="data range")
        ax2.axvspan(lo, hi, color="0.93", zorder=-1)
        ax1.set_xlabel("engineering strain [-]")
        ax2.set_xlabel("engineering strain [-]")
        if tan.min() < -0.25 * bound:  # strongly softening: show the lower side of the bound too
            ax2.axhline(-bound, color="C3", ls="--", lw=1)
    else:
        x = torch.as_tensor(strain, dtype=dtype)
        with torch.no_grad():
            pred = net(x).double().numpy()
        for j in range(model.d_out):
            name = model.stress_columns[j] if j < len(model.stress_columns) else f"stress {j}"
            ax1.plot(stress[:, j], pred[:, j], ".", ms=3, alpha=0.6, label=name)
        lim = [stress.min(), stress.max()]
        ax1.plot(lim, lim, "k-", lw=0.8)
        ax1.set_xlabel(f"measured stress [{unit}]")
        ax1.set_ylabel(f"fitted stress [{unit}]")
        norms = torch.linalg.matrix_norm(model.tangent(x).double(), ord=2).numpy()
        ax2.plot(np.linalg.norm(strain, axis=1), norms, ".", ms=3, label="‖C_t‖₂ at the data points")
        ax2.set_xlabel("‖strain‖ (engineering Voigt) [-]")
    if model.d_in == 1:
        ax1.set_ylabel(f"stress [{unit}]")
    ax2.axhline(bound, color="C3", ls="--", lw=1.2, label=f"certified bound L = {bound:.4g}")
    emp = s.get("lipschitz_empirical")
    if emp:
        ax2.axhline(emp, color="C2", ls=":", lw=1.2, label=f"largest tangent found = {emp:.4g}")
    ax2.set_ylabel(f"tangent stiffness [{unit} per unit strain]")
    r2, rmse = s.get("r2"), s.get("rmse")
    if r2 is not None and rmse is not None:
        ax1.set_title(f"{s.get('data_file', '')}: RMSE {rmse:.4g} {unit}, R² {r2:.4f}", fontsize=10)
    tightness = s.get("tightness") or float("nan")
    ax2.set_title(f"tangent against the certified bound (tightness {tightness:.3g})", fontsize=10)
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ the output set
SET_KEY = "output_set"
"""The key of ``MODEL.json`` that records the set: ``status``, and ``model`` / ``plot`` with file and SHA-256."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stale_temporaries(out: str | os.PathLike[str]) -> list[Path]:
    """Temporary files that an interrupted write of the set of ``out`` left: ``fem.atomic``'s names
    ``.NAME.<pid>.<random>.tmp`` beside ``NAME``, whose writing process is no longer running (a concurrent
    fit's files are left alone); the older ``.NAME.<random>.tmp`` names count too."""
    found = []
    for path in output_paths(out):
        pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[A-Za-z0-9_]{{8}}\.tmp")
        with contextlib.suppress(OSError):
            for p in path.parent.iterdir():
                m = pattern.fullmatch(p.name)
                if m and (m.group(1) is None or not pid_alive(int(m.group(1)))):
                    found.append(p)
    return sorted(found)


def remove_stale_temporaries(out: str | os.PathLike[str]) -> list[Path]:
    """Remove :func:`stale_temporaries`; return what was removed."""
    removed = []
    for path in stale_temporaries(out):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _write_file(tmp: Path, data: bytes) -> None:
    """Write and fsync ``data`` to the temporary file ``tmp`` (the one place the set's bytes are written)."""
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _cannot_write(path: Path, exc: OSError) -> OutputWriteError:
    err = OutputWriteError(f"cannot write {path}: {exc.strerror or exc}")
    err.errno = exc.errno
    return err


def write_outputs(model: SurrogateModel, strain: np.ndarray, stress: np.ndarray,
                  out: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Write ``MODEL.pt``, ``MODEL.png`` and ``MODEL.json`` for ``out`` as one set (see the module text).

    Raises :class:`OutputWriteError` (``cannot write FILE: reason``) when a file cannot be written; the
    previous set is then left as it was, unless the error came after step 2 (then it is marked incomplete).
    """
    from .modelfile import to_bytes

    remove_stale_temporaries(out)
    return write_set(out, to_bytes(model), plot_png(model, strain, stress), summary_document(model))


def write_set(out: str | os.PathLike[str], pt_bytes: bytes, png_bytes: bytes, doc: dict) -> tuple[Path, Path, Path]:
    """Write the model bytes, the plot bytes and the summary ``doc`` (plus its :data:`SET_KEY` record) as
    one set, steps 2-5 of the module text; :class:`OutputWriteError` as :func:`write_outputs`."""
    model_path, json_path, png_path = output_paths(out)
    doc = dict(doc)
    doc[SET_KEY] = {
        "status": "complete",
        "model": {"file": model_path.name, "sha256": _sha256(pt_bytes)},
        "plot": {"file": png_path.name, "sha256": _sha256(png_bytes)},
    }
    json_bytes = (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode("utf-8")
    marker = {SET_KEY: {
        "status": "incomplete",
        "note": f"a 'snsurrogate fit' writing {model_path.name}, {png_path.name} and {json_path.name} did not finish: "
                "the model and the plot beside this file may be from different runs; run the fit again",
    }}
    marker_bytes = (json.dumps(marker, indent=2) + "\n").encode("utf-8")
    current = json_path
    try:
        # exits run in reverse: the model is renamed first, then the plot, the summary last
        with atomic_path(json_path) as tmp_json, atomic_path(png_path) as tmp_png, atomic_path(model_path) as tmp_pt:
            for dest, tmp, data in ((model_path, tmp_pt, pt_bytes), (png_path, tmp_png, png_bytes),
                                    (json_path, tmp_json, json_bytes)):
                current = dest
                _write_file(tmp, data)
            current = json_path
            with atomic_path(json_path) as tmp_marker:  # step 3: the old set is no longer complete
                _write_file(tmp_marker, marker_bytes)
            current = model_path
    except OutputWriteError:
        raise
    except OSError as exc:
        named = exc.filename2 or exc.filename
        raise _cannot_write(Path(named) if named and not str(named).endswith(".tmp") else current, exc) from None
    return model_path, json_path, png_path


@dataclass(frozen=True)
class OutputSet:
    """What the files beside a model say about it: ``status`` is ``complete`` (the three files are one fit,
    checksums checked), ``incomplete`` (a fit writing them was interrupted), ``mixed`` (files from different
    runs), ``unverified`` (a summary without checksums: older version) or ``none`` (no summary beside it)."""

    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status not in ("incomplete", "mixed")

    def to_dict(self) -> dict:
        return {"status": self.status, "message": self.message}


def output_set_status(model_path: str | os.PathLike[str]) -> OutputSet:
    """Tell whether ``MODEL.pt``, ``MODEL.json`` and ``MODEL.png`` beside it are one complete fit."""
    model_path, json_path, png_path = output_paths(model_path)
    if not json_path.exists():
        return OutputSet("none", f"no {json_path.name} beside it (written by the API, or the summary was moved)")
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return OutputSet("mixed", f"{json_path} is not a readable summary ({exc}); run the fit again")
    record = doc.get(SET_KEY) if isinstance(doc, dict) else None
    if not isinstance(record, dict):
        return OutputSet("unverified", f"{json_path.name} records no checksums (written by an older snsurrogate): "
                                       "whether it and the plot belong with this model is not known")
    if record.get("status") != "complete":
        return OutputSet("incomplete", f"{json_path} says a 'snsurrogate fit' writing these files did not finish: "
                                       f"{model_path.name} and {png_path.name} may be from different runs; run the fit "
                                       "again")
    wrong = []
    for key, path in (("model", model_path), ("plot", png_path)):
        entry = record.get(key)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if not path.is_file():
            wrong.append(f"{path.name} is missing")
        elif expected != _file_sha256(path):
            wrong.append(f"{path.name} is not the file {json_path.name} was written with (SHA-256 differs)")
    if wrong:
        return OutputSet("mixed", f"files from different runs: {'; '.join(wrong)}; do not take {json_path.name} "
                                  "as the summary of this model; run the fit again")
    return OutputSet("complete", f"{model_path.name}, {json_path.name} and {png_path.name} are one fit "
                                 "(SHA-256 checked)")
