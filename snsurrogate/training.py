"""Fitting a stress network to data: :func:`fit` with :class:`FitOptions`.

Training minimises the mean squared error of the scaled stress ``sigma / s_sigma``: by default Adam
(cosine learning-rate decay, mini-batches for large data) followed by a full-batch L-BFGS polish
(measured on the bundled curves: 2-3x lower RMSE than Adam alone, and tighter bounds; L-BFGS alone
stalls on multiaxial data), or either optimizer alone. It keeps a seeded random
validation split, stops early when the validation loss has not improved for ``patience`` epochs, and
returns the best model seen. A non-finite or exploding loss stops training with a warning and keeps
the best model so far (a :class:`~snsurrogate.errors.TrainingError` when there is none); the loop,
shared by both optimizers, is in :mod:`snsurrogate.optimization`.

The spectrally normalized model (default) has every weight wrapped in PyTorch's ``spectral_norm``
and fixed layer gains whose product sets the Lipschitz target; the unconstrained model is the same
architecture (widths, activation, scalings) with free weights and unit gains.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import inspect
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import Dataset, read_curves
from .errors import TrainingError
from .lipschitz import lipschitz_bound, lipschitz_empirical
from .lipschitz_target import DEFAULT_MARGIN, auto_lipschitz
from .model import SurrogateModel
from .network import Architecture, build_network, freeze, input_gains
from .optimization import Split, TrainingLog, train
from .potential import CURVATURES, DEFAULT_RIDGES, PotentialNetwork, potential_bounds
from .softening import data_softening, law_softening
from .version import __version__

__all__ = ["DEFAULT_HIDDEN", "MAX_TRAIN_POINTS", "OPTIMIZERS", "READ_OPTIONS", "FitOptions", "TrainingLog", "fit",
           "resolve_device", "training_sample"]

DEFAULT_HIDDEN = (32, 32, 32)
#: Default :attr:`FitOptions.max_points`: the rows trained on at most. Up to this many, Adam takes full
#: batches (one step per epoch); measured on 2 CPU cores, a 200,000-row curve fits in about 10 s with it
#: instead of more than 10 minutes, to the same RMSE on all rows (benchmarks/large_curve.py).
MAX_TRAIN_POINTS = 4096
#: Data rows added to the dense sample of the empirical tangent search at most (evenly spaced rows).
MAX_EMPIRICAL_POINTS = 20_000
#: Accepted values of :attr:`FitOptions.optimizer`.
OPTIMIZERS = ("adam+lbfgs", "adam", "lbfgs")
#: Accepted values of :attr:`FitOptions.law`.
LAWS = ("auto", "potential", "mlp")


@dataclass(frozen=True)
class FitOptions:
    """How :func:`fit` builds and trains a law; frozen (derive variants with :func:`dataclasses.replace`
    or with keyword overrides of :func:`fit`).

    Attributes
    ----------
    lipschitz : float or "auto"
        Target Lipschitz constant ``L`` [stress unit per unit strain], or ``"auto"``: ``margin`` times
        the steepest smoothed slope of the data (:mod:`snsurrogate.lipschitz_target`).
    margin : float
        Margin [-] of ``lipschitz="auto"``; default ``DEFAULT_MARGIN`` (1.1).
    unconstrained : bool
        Fit the same architecture without spectral normalization (for comparisons). Its certified
        bound (product of exact spectral norms) is still computed and reported.
    hidden : tuple of int
        Hidden-layer widths (even for ``groupsort``); default ``(32, 32, 32)``.
    activation : str
        ``"groupsort"`` (default), ``"tanh"`` or ``"softplus"``.
    zero_origin : bool
        Zero strain gives exactly zero stress (default True).
    optimizer : str
        ``"adam+lbfgs"`` (default: ``epochs`` of Adam with cosine learning-rate decay from ``lr``, then
        ``polish_epochs`` of full-batch L-BFGS with five iterations each, starting from the best Adam
        state), ``"adam"`` or ``"lbfgs"`` (``epochs`` of L-BFGS alone).
    epochs : int
        Epochs of Adam (of L-BFGS with ``optimizer="lbfgs"``), at least 1; default 1000.
    polish_epochs : int
        Epochs of L-BFGS after Adam with ``optimizer="adam+lbfgs"``, at least 1; default 200.
    lr : float
        Initial Adam learning rate [-] (the loss is in scaled stress); default 1e-2.
    batch_size : int or None
        Adam mini-batch size [points]; None (default): full batches up to 4096 points, else 1024.
    val_fraction : float
        Share of the points held out for validation, in [0, 0.9); default 0.15.
    patience : int or None
        Early stopping: epochs without a validation improvement before a phase stops; None (default):
        ``max(200, epochs // 4)`` with the phase's epochs.
    seed : int
        Seeds the initialisation, the validation split and the batch order: a fit is reproducible.
    float64 : bool
        Train and store the model in double precision (default False: float32).
    device : str
        ``"auto"`` (default; CUDA when available), ``"cpu"`` or ``"cuda"``.
    progress : bool
        Show a progress bar (tqdm) with the current losses (default False).
    max_points : int or None
        Largest number of rows trained on (training and validation together); default
        ``MAX_TRAIN_POINTS`` (4096). A larger data set is sub-sampled for training by
        :func:`training_sample`: ``max_points`` rows evenly spaced in row order (test order, or
        strain order when the rows were sorted), the first and last rows included; the Lipschitz target,
        the RMSE, R² and the plot use every row. None: train on every row.

    Raises
    ------
    TrainingError
        An option out of range (checked on construction).
    """

    lipschitz: float | str = "auto"
    margin: float = DEFAULT_MARGIN
    unconstrained: bool = False
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    activation: str = "groupsort"
    zero_origin: bool = True
    optimizer: str = "adam+lbfgs"
    epochs: int = 1000
    polish_epochs: int = 200
    lr: float = 1e-2
    batch_size: int | None = None
    val_fraction: float = 0.15
    patience: int | None = None
    seed: int = 0
    float64: bool = False
    device: str = "auto"
    progress: bool = False
    max_points: int | None = 4096
    law: str = "auto"
    ridges: int = DEFAULT_RIDGES
    curvature: str = "smoothstep"

    def __post_init__(self) -> None:
        if self.law not in LAWS:
            raise TrainingError(f"unknown law {self.law!r}; expected {', '.join(LAWS)}")
        if self.curvature not in CURVATURES:
            raise TrainingError(f"unknown curvature {self.curvature!r}; expected {', '.join(CURVATURES)}")
        if isinstance(self.ridges, bool) or not isinstance(self.ridges, int | np.integer) or self.ridges < 1:
            raise TrainingError(f"ridges must be a positive integer, got {self.ridges!r}")
        if self.max_points is not None and (isinstance(self.max_points, bool) or not isinstance(
                self.max_points, int | np.integer) or self.max_points < 4):
            raise TrainingError(f"max_points must be an integer of at least 4 or None, got {self.max_points!r}")
        if self.lipschitz != "auto":
            try:
                target = float(self.lipschitz)
            except (TypeError, ValueError):
                target = math.nan
            if not (math.isfinite(target) and target > 0):
                raise TrainingError(f"lipschitz must be 'auto' or a positive number, got {self.lipschitz!r}")
        if self.optimizer not in OPTIMIZERS:
            raise TrainingError(f"unknown optimizer {self.optimizer!r}; expected adam+lbfgs, adam or lbfgs")
        if not 0.0 <= self.val_fraction < 0.9:
            raise TrainingError(f"val_fraction must be in [0, 0.9), got {self.val_fraction!r}")
        if self.epochs < 1 or self.polish_epochs < 1:
            raise TrainingError(
                f"epochs and polish_epochs must be at least 1, got {self.epochs!r} and {self.polish_epochs!r}"
            )
        try:
            hidden = tuple(int(w) for w in self.hidden)
        except (TypeError, ValueError):
            raise TrainingError(f"hidden must list positive widths, got {self.hidden!r}") from None
        object.__setattr__(self, "hidden", hidden)


_FIT_OPTIONS = tuple(f.name for f in dataclasses.fields(FitOptions))
#: Keyword arguments of :func:`fit` that go to :func:`~snsurrogate.data.read_curves` (every one it takes).
READ_OPTIONS = tuple(name for name in inspect.signature(read_curves).parameters if name != "path")
# what applies to data that is not a path: the unit and check options of Dataset.from_arrays, the check
# options of Dataset.check
_ARRAY_OPTIONS = ("stress_unit", "strain_unit", "branch", "min_rows", "keep_fracture")
_DATASET_OPTIONS = ("branch", "min_rows", "keep_fracture")
assert not set(_FIT_OPTIONS) & set(READ_OPTIONS), "a fit option and a reading option share a name"
# other libraries' names of a few options, which spelling alone does not lead to
_ALIASES = {"learning_rate": "lr", "n_epochs": "epochs", "max_epochs": "epochs", "widths": "hidden",
            "double": "float64", "lipschitz_target": "lipschitz"}


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError("device 'cuda' was requested but no CUDA GPU is available; use --device cpu or auto")
    if name != "cpu" and not name.startswith("cuda"):
        raise TrainingError(f"unknown device {name!r}; expected auto, cpu or cuda")
    return torch.device(name)


def fit(data: str | os.PathLike[str] | Dataset | tuple[Any, Any], options: FitOptions | None = None,
        **overrides: Any) -> SurrogateModel:
    """Fit a neural stress–strain law with a certified Lipschitz bound.

    Parameters
    ----------
    data
        A CSV path (read by :func:`~snsurrogate.data.read_curves`), a :class:`~snsurrogate.data.Dataset`,
        or a pair ``(strain (n,) or (n, d_in), stress (n,) or (n, d_out))`` of arrays in test order
        (made a data set by :meth:`Dataset.from_arrays <snsurrogate.data.Dataset.from_arrays>`). Every
        kind of data gets the checks of :mod:`snsurrogate.data.checks` (hysteresis, conflicting
        stresses, NaN, shapes).
    options
        How to build and train the law; default ``FitOptions()``.
    **overrides
        Fields of :class:`FitOptions` (``epochs=200``, ``seed=3``, ...) replace those of ``options``.
        The options of :func:`~snsurrogate.data.read_curves` (:data:`READ_OPTIONS`: ``strain``,
        ``stress``, ``stretch``, ``stress_unit``, ``strain_unit``, ``delimiter``, ``decimal``,
        ``branch``, ``min_rows``, ``skip_rows``, ``keep_fracture``) go to the reader when ``data`` is a
        path; with arrays ``stress_unit``, ``strain_unit``, ``branch``, ``min_rows`` and
        ``keep_fracture`` apply, with a Dataset ``branch``, ``min_rows`` and ``keep_fracture``.

    Returns
    -------
    SurrogateModel
        On the CPU, with ``lipschitz_bound`` certified and ``summary`` holding ``lipschitz_bound``,
        ``lipschitz_empirical``, ``rmse`` [stress unit], ``r2``, ``n_points``, ``seconds`` and more.

    Raises
    ------
    TypeError
        An unknown keyword (the message names the nearest valid one), or a reading option that does not
        apply to this kind of data.
    DataError
        Data that cannot be read or fails a check.
    TrainingError
        Bad options, too few points, or training that diverged before improving on the initial weights.
    """
    t0 = time.perf_counter()
    opts, read = _split_overrides(options, overrides, data)
    ds = _dataset(data, read)
    t_read = time.perf_counter()
    n = ds.n_points
    if n < 4:
        raise TrainingError(f"need at least 4 data points to fit, got {n}")
    dev = resolve_device(opts.device)
    dtype = torch.float64 if opts.float64 else torch.float32
    eps_np, sig_np = np.asarray(ds.strain, np.float64), np.asarray(ds.stress, np.float64)
    law = _law(eps_np, sig_np, opts)

    t_target = time.perf_counter()

    torch.manual_seed(opts.seed)
    net = build_network(law.arch, spectral=not opts.unconstrained).to(dev, dtype)
    sample = training_sample(n, opts.max_points)
    m = sample.size
    perm = sample[np.random.default_rng(opts.seed).permutation(m)]
    n_val = min(int(round(opts.val_fraction * m)) if opts.val_fraction > 0 else 0, m - 2)
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    eps_t = torch.as_tensor(eps_np, dtype=dtype, device=dev)
    sig_t = torch.as_tensor(sig_np / law.arch.stress_scale, dtype=dtype, device=dev)
    if isinstance(net, PotentialNetwork):
        net.initialize(eps_t[tr_idx], sig_t[tr_idx] * law.arch.stress_scale, seed=opts.seed)
    log = train(net, Split(eps_t[tr_idx], sig_t[tr_idx], eps_t[val_idx], sig_t[val_idx]), opts)
    t_train = time.perf_counter()

    frozen = freeze(net).cpu().to(dtype)
    summary = _summary(frozen, ds, opts, law, log, val_idx, dev, dtype)
    summary["n_train"] = int(m - n_val)
    summary["training_sample"] = (
        f"all {n} rows" if m == n else
        f"{m} of {n} rows, evenly spaced in row order (every {n / m:.3g}th row, first and last included; "
        f"max_points={opts.max_points}); RMSE, R² and the empirical tangent use all rows")
    summary["timings"] = {"read_and_check": t_read - t0, "lipschitz_target": t_target - t_read,
                          "training": t_train - t_target, "evaluation": time.perf_counter() - t_train}
    lo, hi = eps_np.min(axis=0), eps_np.max(axis=0)
    info = _data_info(ds)
    metadata = {
        "constrained": not opts.unconstrained,
        "lipschitz_target": summary["lipschitz_target"],
        "package_version": __version__,
        "columns": info["columns"],
        "units": info["units"],
        "data": {**info["data"], "n_points": int(n), "strain_min": lo.tolist(), "strain_max": hi.tolist()},
        "summary": summary,
    }
    summary["seconds"] = time.perf_counter() - t0
    return SurrogateModel(frozen, metadata)


def resolve_law(law: str, d_in: int, d_out: int) -> str:
    """The network kind of ``law`` for data with ``d_in`` strain and ``d_out`` stress components:
    ``"auto"`` is ``"potential"`` for 2-D and 3-D (``d_in == d_out > 1``), else ``"mlp"``; a potential
    needs ``d_in == d_out``."""
    if law == "auto":
        return "potential" if d_in == d_out > 1 else "mlp"
    if law == "potential" and d_in != d_out:
        raise TrainingError(f"a potential law needs as many stress as strain components, the data have "
                            f"{d_in} strain and {d_out} stress columns; use law='mlp'")
    return law


def training_sample(n: int, max_points: int | None) -> np.ndarray:
    """The rows trained on: all ``n``, or ``max_points`` rows evenly spaced in row order (the first and
    the last included), sorted."""
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))


def _split_overrides(options: FitOptions | None, overrides: dict[str, Any], data: Any):
    """``(FitOptions, reading options)`` from ``fit``'s keyword arguments (TypeError for unknown ones)."""
    if options is not None and not isinstance(options, FitOptions):
        raise TypeError(f"options must be a FitOptions, got {type(options).__name__}")
    fit_over = {k: v for k, v in overrides.items() if k in _FIT_OPTIONS}
    read = {k: v for k, v in overrides.items() if k in READ_OPTIONS}
    for name in overrides:
        if name not in fit_over and name not in read:
            valid = _FIT_OPTIONS + READ_OPTIONS
            near = ([_ALIASES[name]] if name in _ALIASES else None) or difflib.get_close_matches(
                name, valid, n=1, cutoff=0.6) or difflib.get_close_matches(name, valid, n=1, cutoff=0.0)
            raise TypeError(
                f"fit() got an unexpected keyword argument {name!r}; did you mean {near[0]!r}? (fit takes the "
                f"fields of FitOptions and the options of read_curves)"
            )
    if isinstance(data, (str, os.PathLike)):
        allowed, kind = READ_OPTIONS, "a CSV path"
    elif isinstance(data, Dataset):
        allowed, kind = _DATASET_OPTIONS, "a Dataset (already read)"
    else:
        allowed, kind = _ARRAY_OPTIONS, "arrays"
    for name in read:
        if name not in allowed:
            raise TypeError(
                f"fit() got {name}=, an option of reading a CSV file, but data is {kind}; with {kind} fit "
                f"takes {', '.join(allowed)} of the reading options"
            )
    opts = dataclasses.replace(options or FitOptions(), **fit_over) if fit_over else options or FitOptions()
    return opts, read


def _dataset(data: Any, read: dict[str, Any]) -> Dataset:
    """A checked :class:`Dataset` from a CSV path, a Dataset (checked unless it was, or again with the
    ``branch`` and ``min_rows`` given) or a pair of arrays."""
    if isinstance(data, (str, os.PathLike)):
        return read_curves(data, **read)
    if isinstance(data, Dataset):
        if data.checked_branch is not None and not read:
            return data
        # rows were counted when it was read (min_rows); fit itself needs 4 points (a TrainingError)
        return data.check(branch=read.get("branch", "all"), min_rows=read.get("min_rows", 1),
                          keep_fracture=read.get("keep_fracture", False))
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return Dataset.from_arrays(data[0], data[1], **read)
    raise TypeError("data must be a Dataset, a CSV path, or a (strain, stress) pair of arrays")


def _data_info(ds: Dataset) -> dict[str, dict[str, Any]]:
    """The ``columns``, ``units`` and ``data`` sections of a model's metadata."""
    return {
        "columns": {"strain": list(ds.strain_columns), "stress": list(ds.stress_columns),
                    "strain_input": "stretch" if ds.strain_unit == "stretch" else "strain"},
        "units": {"strain": "-", "strain_in_file": ds.strain_unit, "stress": ds.stress_unit},
        "data": {"source": Path(ds.source).name, "sha256": ds.sha256, "notes": list(ds.notes)},
    }


@dataclass(frozen=True)
class _Law:
    """The network's architecture and how its Lipschitz target ``L`` [stress unit per unit strain] was set."""

    arch: Architecture
    target: float
    steepest: float | None  # steepest smoothed data slope, with lipschitz="auto"
    rule: str


def _law(eps: np.ndarray, sig: np.ndarray, opts: FitOptions) -> _Law:
    """Scalings, gains and the Lipschitz target of the law for strain ``eps`` and stress ``sig``."""
    s_eps = float(np.max(np.abs(eps)))  # one scalar per side
    s_sig = float(np.max(np.abs(sig)))
    if s_eps == 0.0 or s_sig == 0.0:
        raise TrainingError("strain and stress must not be identically zero")
    steepest = None
    if opts.lipschitz == "auto":
        try:
            target, steepest = auto_lipschitz(eps, sig, opts.margin)
        except ValueError as exc:
            raise TrainingError(str(exc)) from None
        rule = f"auto: {opts.margin:g} x steepest smoothed data slope ({steepest:.6g})"
    else:
        target, rule = float(opts.lipschitz), "user value"
    kind = resolve_law(opts.law, eps.shape[1], sig.shape[1])
    kappa = target * s_eps / s_sig
    if kind == "potential":
        # one matrix V = g W_hat with ||W_hat||_2 = 1 and Hessian <= V^T V: the bound is g^2 (scaled)
        hidden, activation, gains = (opts.ridges,), opts.curvature, (1.0 if opts.unconstrained else math.sqrt(kappa),)
    else:
        # The whole gain kappa = L s_eps / s_sig sits on the first layer: the hidden layers then see
        # features sharp enough for the steep parts of a curve (measured: far better fits than an even
        # split over the layers, and tighter bounds). Unconstrained weights are free: unit gains.
        n_layers = len(opts.hidden) + 1
        hidden, activation = opts.hidden, opts.activation
        gains = (1.0,) * n_layers if opts.unconstrained else input_gains(n_layers, kappa)
    try:
        arch = Architecture(eps.shape[1], sig.shape[1], hidden, activation, s_eps, s_sig, gains,
                            opts.zero_origin, kind)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    return _Law(arch, target, steepest, rule)


def eval_net_model(net) -> SurrogateModel:
    """A bare :class:`SurrogateModel` around ``net`` (for its ``tangent``), without metadata."""
    return SurrogateModel(net, {})


def _summary(frozen, ds: Dataset, opts: FitOptions, law: _Law, log: TrainingLog,
             val_idx: np.ndarray, dev: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    """Bound, tangent found, errors (in double precision on all points) and the training record."""
    eps, sig = np.asarray(ds.strain, np.float64), np.asarray(ds.stress, np.float64)
    bound = lipschitz_bound(frozen)
    eval_net = copy.deepcopy(frozen).double()
    with torch.no_grad():
        pred = eval_net(torch.as_tensor(eps)).numpy()
    res = pred - sig
    ss_tot = float(np.sum((sig - sig.mean(axis=0)) ** 2))
    n, n_val = ds.n_points, len(val_idx)
    extra = eps[training_sample(n, MAX_EMPIRICAL_POINTS)]  # the data rows, evenly sub-sampled beyond 20,000
    emp, at = lipschitz_empirical(eval_net, eps.min(axis=0), eps.max(axis=0), extra_points=torch.as_tensor(extra),
                                  seed=opts.seed)
    kind = frozen.arch.kind
    lower = potential_bounds(frozen)[1] if kind == "potential" else None
    model_soft = None if kind == "potential" else law_softening(eval_net_model(eval_net), eps.min(axis=0),
                                                                 eps.max(axis=0), seed=opts.seed).to_dict()
    return {
        "kind": kind,
        "tangent_lower_bound": lower,
        "symmetric": kind == "potential" or eps.shape[1] == 1,
        "data_softening": data_softening(eps, sig).to_dict(),
        "law_softening": model_soft,
        "lipschitz_bound": bound,
        "lipschitz_empirical": emp,
        "lipschitz_empirical_at": [float(v) for v in at],
        "tightness": bound / emp if emp > 0 else None,
        "at_bound": bool(emp >= 0.98 * bound),
        "lipschitz_target": None if opts.unconstrained else law.target,
        "lipschitz_rule": law.rule,
        "steepest_data_slope": law.steepest,
        "lipschitz_unit": f"{ds.stress_unit} per unit strain",
        "rmse": float(np.sqrt(np.mean(res**2))),
        "rmse_validation": float(np.sqrt(np.mean(res[val_idx] ** 2))) if n_val else None,
        "r2": float(1.0 - np.sum(res**2) / ss_tot) if ss_tot > 0 else float("nan"),
        "n_points": int(n),
        "n_train": int(n - n_val),
        "n_validation": int(n_val),
        "constrained": not opts.unconstrained,
        "activation": opts.activation,
        "hidden": list(law.arch.hidden),
        "optimizer": opts.optimizer,
        "epochs_run": log.epochs_run,
        "best_epoch": log.best_epoch,
        "stop_reason": log.stop_reason,
        "seed": opts.seed,
        "device": str(dev),
        "dtype": str(dtype).replace("torch.", ""),
        "stress_unit": ds.stress_unit,
        "strain_unit": "-",
        "data_file": Path(ds.source).name,
        "data_sha256": ds.sha256,
        "package_version": __version__,
        "torch_version": torch.__version__,
    }
