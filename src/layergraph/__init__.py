"""layergraph: neural networks built from layer objects on NumPy."""

__version__ = "0.1.0"
