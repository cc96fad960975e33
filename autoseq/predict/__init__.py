"""Loading an exported model and predicting from raw CSVs or frames."""

from autoseq.predict._predict import Forecaster, SequenceModel, load_model

__all__ = ["Forecaster", "SequenceModel", "load_model"]
