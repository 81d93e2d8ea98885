"""edgesweep_analysis: read an edgesweep output file (doc/output.md) and draw its figures.

    from edgesweep_analysis import open_run, FIGURES
    with open_run("out.h5") as run:
        fig = FIGURES["phase_diagram"](run)

`open_run` raises `NotEdgesweep` for a file that is not an edgesweep output; a figure
function raises `Skip` when the file lacks the data it needs. `estimators` holds the
estimators the figures and the studies share (standard errors, the normalised kernel
variance and its 1/N theory, the Lyapunov exponent from logjac).
"""
from .io import AXES, Field, NotEdgesweep, Run, open_run
from .figures import FIGURES, Skip
from . import estimators

__all__ = ["AXES", "FIGURES", "Field", "NotEdgesweep", "Run", "Skip", "estimators", "open_run"]
