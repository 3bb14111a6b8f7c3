"""The seed's data set: make_friedman1, split as the tutorial splits it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split

from prunebench.config import DataConfig


@dataclass(frozen=True)
class Dataset:
    """float32 arrays: x_* of shape (n, n_features), y_* of shape (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_data(config: DataConfig) -> Dataset:
    """Return the train/test split of make_friedman1 that ``config`` describes."""
    x, y = make_friedman1(
        n_samples=config.n_samples, n_features=config.n_features, random_state=config.data_seed
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=config.test_size, random_state=config.split_seed
    )
    as32 = np.float32
    return Dataset(x_train.astype(as32), y_train.astype(as32),
                   x_test.astype(as32), y_test.astype(as32))
