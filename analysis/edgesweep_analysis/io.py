"""Reading an edgesweep output file (doc/output.md) through its layout and attributes only.

Every array comes back as a `Field`: values in the canonical axis order
(sigma_w2, sigma_b2, depth, width) restricted to the axes the dataset has, with its
`units` and `long_name` attributes. When a dataset's shape is not in the layout's axis order,
the order is taken from the HDF5 dimension scales attached to it, so a file that stores an
axis permutation still reads correctly. Types and shapes are checked before any values are
read: a damaged or crafted file raises NotEdgesweep (or Skip for one dataset). Ensemble
values of points that /run/status does not mark as done read as NaN.

Codes (/run/status, /mft/phase, /theory/regime) mean what the file's own CF attributes
`flag_values` and `flag_meanings` say; nothing here repeats their numbers.
"""
import os
from dataclasses import dataclass

import h5py
import numpy as np

AXES = ("sigma_w2", "sigma_b2", "depth", "width")
FORMAT_PREFIX = "edgesweep/"
MAX_COORD = 10**7  # more values than any axis has: a damaged coordinate


class NotEdgesweep(Exception):
    """The path is not an edgesweep output file; the message says why."""


class Skip(Exception):
    """Data a figure needs is absent (or degenerate); the message says what."""


@dataclass(frozen=True)
class Field:
    """One dataset: values in canonical axis order plus its descriptive attributes."""
    name: str
    values: np.ndarray
    units: str
    long_name: str
    axes: tuple


def _text(value):
    """An attribute value as str (h5py gives str, bytes or 0-d/1-element arrays)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(-1)[0])
    if isinstance(value, np.generic):
        return value.item()
    return value


def code_meanings(ds):
    """{meaning: value} of a code dataset from its CF attributes flag_values and
    flag_meanings, or None when it has none (files written before they were added)."""
    if "flag_values" not in ds.attrs or "flag_meanings" not in ds.attrs:
        return None
    values = np.atleast_1d(ds.attrs["flag_values"]).reshape(-1)
    meanings = str(_text(ds.attrs["flag_meanings"])).split()
    if len(values) != len(meanings):
        raise NotEdgesweep(f"{ds.name}: {len(values)} flag_values but {len(meanings)} "
                           "flag_meanings")
    return {m: int(v) for m, v in zip(meanings, values)}


def _check_file(path):
    """Raise NotEdgesweep unless PATH is an HDF5 file whose root `format` is edgesweep/*."""
    if not os.path.exists(path):
        raise NotEdgesweep("no such file")
    if os.path.isdir(path):
        raise NotEdgesweep("it is a directory")
    try:
        if not h5py.is_hdf5(path):
            raise NotEdgesweep("not an HDF5 file")
    except OSError as e:
        raise NotEdgesweep(f"cannot be read ({e.strerror or e})") from None


def open_run(path):
    """Open PATH read-only as a Run; raise NotEdgesweep with the reason if it is not one."""
    _check_file(path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as e:
        raise NotEdgesweep(f"HDF5 open failed ({e})") from None
    try:
        fmt = _text(h5.attrs["format"]) if "format" in h5.attrs else None
        if fmt is None:
            raise NotEdgesweep("the root attribute 'format' is missing")
        if not isinstance(fmt, str) or not fmt.startswith(FORMAT_PREFIX):
            raise NotEdgesweep(f"root attribute format = {fmt!r} does not start with "
                               f"{FORMAT_PREFIX!r}")
        missing = [a for a in AXES if not isinstance(h5.get(a), h5py.Dataset)]
        if missing:
            raise NotEdgesweep(f"coordinate dataset(s) {', '.join(missing)} missing")
        try:
            return Run(h5, path)
        except Skip as e:
            raise NotEdgesweep(str(e)) from None
        except (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError) as e:
            raise NotEdgesweep(f"damaged: {type(e).__name__}: {e}") from None
    except Exception:
        h5.close()
        raise


class Run:
    """An open edgesweep file: root attributes, coordinates and typed access to datasets."""

    def __init__(self, h5, path):
        self.h5 = h5
        self.path = path
        self.attrs = {k: _text(v) for k, v in h5.attrs.items()}
        self.coords = {a: self._read(a, (a,)) for a in AXES}
        self._status_codes = self.codes("run/status")
        if self._status_codes and not {"done", "pending", "flagged"} <= set(self._status_codes):
            raise NotEdgesweep(f"/run/status flag_meanings {sorted(self._status_codes)} lack "
                               "done, pending or flagged")
        self._status = self._read_status() if self._status_codes else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the HDF5 file."""
        self.h5.close()

    def attr(self, name, default=""):
        """A root attribute (decoded), or DEFAULT when absent."""
        return self.attrs.get(name, default)

    def coord(self, axis):
        """The 1-D coordinate values of AXIS."""
        return self.coords[axis].values

    def codes(self, path):
        """{meaning: value} of code dataset PATH (see code_meanings), or None."""
        return code_meanings(self.h5[path]) if self.has(path) else None

    def code_names(self, path):
        """{value: meaning} of code dataset PATH, meanings with spaces, or {}."""
        return {v: m.replace("_", " ") for m, v in (self.codes(path) or {}).items()}

    def has(self, path):
        """True when PATH names a dataset in the file."""
        return isinstance(self.h5.get(path), h5py.Dataset)

    def field(self, path, axes):
        """Dataset PATH with the expected AXES, in canonical order; raise Skip if absent.

        Ensemble and finite-width datasets (those with a width axis and sigma axes) have
        points that are not done (per /run/status) set to NaN.
        """
        if not self.has(path):
            raise Skip(f"{path} is absent")
        f = self._read(path, tuple(axes))
        if "width" in f.axes and "sigma_w2" in f.axes and "sigma_b2" in f.axes:
            f = self._mask_pending(f)
        return f

    def optional(self, path, axes):
        """Like field() but None when absent or malformed."""
        try:
            return self.field(path, axes)
        except Skip:
            return None

    def _dataset_axes(self, ds, expected):
        """Axis names of DS from its attached dimension scales, falling back to EXPECTED."""
        names = []
        for dim in ds.dims:
            scale = dim[0].name.rsplit("/", 1)[-1] if len(dim) else dim.label
            names.append(scale or None)
        if sorted(n or "" for n in names) == sorted(expected):
            return tuple(names)
        return tuple(expected)

    def _read(self, path, expected):
        """Read PATH, reorder to canonical axis order, check shape against coordinates.

        Type and shape are checked before a byte is read: a damaged or crafted file gives
        Skip with the reason, never a huge allocation or an exception from deep inside."""
        ds = self.h5.get(path)
        if not isinstance(ds, h5py.Dataset):
            raise Skip(f"{path} is absent or not a dataset")
        if ds.ndim != len(expected):
            raise Skip(f"{path} has {ds.ndim} axes, expected {len(expected)} "
                       f"({', '.join(expected)})")
        try:  # a damaged type (e.g. a float of odd precision) fails in h5py's conversion
            dtype = ds.dtype
        except (ValueError, TypeError, OSError) as e:
            raise Skip(f"{path} has a type that cannot be read ({e})") from None
        if dtype.kind not in "fiu":
            raise Skip(f"{path} holds {dtype}, not numbers")
        have = tuple(expected)
        coords = getattr(self, "coords", None)
        # Dimension scales only when the stored shape is not the layout's order (edgesweep
        # never writes one): HDF5 1.10 can crash on damaged scale lists, and reading them for
        # every dataset of a sound file would expose every read to that.
        if ds.ndim > 1 and coords is not None and tuple(ds.shape) != tuple(
                len(coords[a].values) if a in coords else n for a, n in zip(expected, ds.shape)):
            try:
                have = self._dataset_axes(ds, expected)
            except (RuntimeError, ValueError, KeyError, OSError, AttributeError, TypeError):
                pass  # unreadable dimension scales: the layout's order
        canon = tuple(a for a in AXES if a in have) + tuple(a for a in have if a not in AXES)
        perm = [have.index(a) for a in canon]
        shape = tuple(ds.shape[i] for i in perm)
        if coords is not None:
            want = tuple(len(coords[a].values) if a in coords else s
                         for a, s in zip(canon, shape))
            if shape != want:
                raise Skip(f"{path} has shape {shape}, the coordinates say {want}")
        elif ds.size > MAX_COORD:
            raise Skip(f"{path} has {ds.size} values: not a coordinate")
        try:
            values = np.transpose(ds[()], perm)
        except (OSError, ValueError, TypeError) as e:
            raise Skip(f"{path} cannot be read ({e})") from None
        return Field(path, values, self._attr_text(ds, "units"), self._attr_text(ds, "long_name"),
                     canon)

    @staticmethod
    def _attr_text(ds, name):
        """A dataset's text attribute, "" when absent or unreadable (damaged file)."""
        try:
            return str(_text(ds.attrs.get(name, "")) or "")
        except (OSError, KeyError, ValueError, TypeError, RuntimeError):
            return ""

    def _read_status(self):
        """/run/status as an (sigma_w2, sigma_b2, width) array, or None when absent."""
        try:
            return self._read("run/status", ("sigma_w2", "sigma_b2", "width")).values
        except (Skip, KeyError):
            return None

    def _mask_pending(self, f):
        """Return F with entries of points whose status is not done set to NaN."""
        if self._status is None:
            return f
        done = self._status == self._status_codes["done"]
        shape = [len(self.coords[a].values) if a in ("sigma_w2", "sigma_b2", "width") else 1
                 for a in f.axes]
        done = done.reshape(shape)  # w, b, n keep their order among canonical axes
        values = f.values.astype(float, copy=True)
        values[np.broadcast_to(~done, values.shape)] = np.nan
        return Field(f.name, values, f.units, f.long_name, f.axes)

    def status_counts(self):
        """{'done', 'pending', 'flagged', 'total'} point counts from /run/status, or None."""
        if self._status is None:
            return None
        s, c = self._status, self._status_codes
        return {"done": int(np.sum(s == c["done"])), "pending": int(np.sum(s == c["pending"])),
                "flagged": int(np.sum(s == c["flagged"])), "total": int(s.size)}
