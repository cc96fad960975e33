"""One trial: build the model for a configuration, fit it, score it (over walk-forward folds)."""
