"""rfdreid: cross-resolution person re-identification with Resolution based Feature Distillation."""

__version__ = "0.1.0"
