"""Estimators shared by the figures and the studies (doc/physics.md §5, §7): standard errors, the
normalised kernel variance Var q/(E q)^2 with its leading-order 1/N theory and the deviation
between them, and the Lyapunov exponent from logjac. Arrays are over
(sigma_w2, sigma_b2, depth, width) unless said otherwise."""
import numpy as np

from .io import Skip

WBDN = ("sigma_w2", "sigma_b2", "depth", "width")


def nearest_index(values, target, tol=None):
    """Index of the entry of VALUES nearest TARGET; with TOL, ValueError when that entry is
    farther than TOL max(1, |TARGET|)."""
    values = np.asarray(values)
    i = int(np.argmin(np.abs(values - target)))
    if tol is not None and abs(values[i] - target) > tol * max(1, abs(target)):
        raise ValueError(f"{target} not on the axis {values}")
    return i


def stderr(run, group, name, ix):
    """Standard error sqrt(var/networks) of GROUP/NAME_mean, indexed by IX, or None."""
    var = run.optional(f"{group}/{name}_var", WBDN)
    m = run.optional(f"{group}/networks", WBDN)
    if var is None or m is None:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(var.values[ix] / m.values[ix])


def variance_se(var, networks):
    """Standard error of a sample variance VAR of NETWORKS Gaussian draws."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return var * np.sqrt(2 / (networks - 1))


def relative_variance(run, group="ensemble"):
    """Var q / (E q)^2 of GROUP ("ensemble" or "theory")."""
    mean = run.field(f"{group}/q_mean", WBDN).values
    var = run.field(f"{group}/q_var", WBDN).values
    with np.errstate(invalid="ignore", divide="ignore"):
        return var / mean ** 2


def relative_variance_se(run):
    """Standard error of the ensemble's Var q/(E q)^2: the sample variance's (Gaussian) and,
    added in quadrature, the mean's share."""
    mean = run.field("ensemble/q_mean", WBDN).values
    var = run.field("ensemble/q_var", WBDN).values
    m = run.field("ensemble/networks", WBDN).values
    with np.errstate(invalid="ignore", divide="ignore"):
        return var / mean ** 2 * np.sqrt(2 / (m - 1) + 4 * var / (m * mean ** 2))


def relative_variance_theory(run):
    """The leading 1/N order of Var q/(E q)^2, (Vzz + 2K^2)/(N K^2) = kurtosis/3 + 2/N, as the
    C side computes it for /theory/kernel_var_dev."""
    n = run.coord("width").astype(float)
    return run.field("theory/kurtosis", WBDN).values / 3 + 2 / n


def kernel_var_dev(run):
    """(dev, err): measured / leading-order theory of Var q/(E q)^2, minus 1, from
    /theory/kernel_var_dev when the file has it (err None when its _err is absent), else
    recomputed from /ensemble and /theory (err None)."""
    if run.has("theory/kernel_var_dev"):
        dev = run.field("theory/kernel_var_dev", WBDN).values
        err = run.optional("theory/kernel_var_dev_err", WBDN)
        return dev, None if err is None else err.values
    if not (run.has("theory/kurtosis") and run.has("ensemble/q_var")):
        raise Skip("the file has neither theory/kernel_var_dev nor theory/kurtosis")
    with np.errstate(invalid="ignore", divide="ignore"):
        return relative_variance(run) / relative_variance_theory(run) - 1, None


def lyapunov_from_logjac(logjac, depth):
    """(logjac^T - logjac^t0) / (2 (T - t0)) along the last axis of LOGJAC (its depth axis),
    T and t0 the deepest and the shallowest of DEPTH."""
    return (logjac[..., -1] - logjac[..., 0]) / (2 * (depth[-1] - depth[0]))
