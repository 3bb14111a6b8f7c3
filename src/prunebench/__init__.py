"""prunebench: canonical pruning experiments for TensorFlow, measured and gated.

Importing the package imports nothing heavy; TensorFlow is imported on first use, through
:mod:`prunebench.kerasenv`, so that the right Keras is selected before it starts.
"""

__version__ = "0.1.0"
