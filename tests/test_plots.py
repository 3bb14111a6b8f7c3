"""The report's plots: legends clear the data they describe."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from prunebench import experiments, plots

#: name: (MSE, zipped HDF5 bytes, achieved sparsity), near the quick profile's figures.
FIGURES = {
    "unpruned": (0.653, 7368, 0.0), "whole_model": (0.492, 5264, 0.5),
    "dense_only": (0.361, 5443, 0.5), "dense_const_87.5": (0.41, 3100, 0.875),
    "dense_poly_87.5": (0.365, 3150, 0.875), "whole_poly_75": (0.61, 3900, 0.75),
    "whole_2by4": (0.567, 5200, 0.41), "dense_2by4": (0.399, 5350, 0.4),
    "whole_pqat_50": (0.32, 5300, 0.5),
}


def found() -> list[plots.Experiment]:
    out = []
    for name, (mse, size, sparsity) in FIGURES.items():
        per_seed = [{"mse": mse * f, "tflite_int8_mse": mse * f * 1.01, "sparsity_pruned": sparsity,
                     "keras_zip_bytes": size * f, "tflite_int8_zip_bytes": size * f / 3}
                    for f in (0.97, 1.0, 1.04)]
        out.append(plots.Experiment(name, experiments.REGISTRY[name], per_seed))
    return out


def data_points(ax) -> np.ndarray:
    points = [line.get_xydata() for line in ax.lines]
    points += [np.asarray(c.get_offsets()) for c in ax.collections if len(c.get_offsets())]
    xy = np.concatenate([p for p in points if len(p)])
    return ax.transData.transform(xy[np.isfinite(xy).all(axis=1)])


@pytest.mark.parametrize("plot", [plots.plot_pareto, plots.plot_mse_vs_sparsity])
def test_legends_cover_no_data_point(tmp_path, plot):
    fig = plot(found(), tmp_path / "plot.png")
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    assert legends
    canvas = FigureCanvasAgg(fig)  # lay it out as savefig did, and measure it
    canvas.draw()
    renderer = canvas.get_renderer()
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            inside = [p for p in data_points(ax) if box.contains(*p)]
            assert not inside, f"{plot.__name__}: the legend covers {len(inside)} point(s)"
