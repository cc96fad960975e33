"""One trial's bookkeeping: validation scores without a second pass, cheap collections."""

import gc

import numpy as np
import optuna
import pytest

import autoseq
from autoseq.backends import OptunaBackend
from autoseq.data import ForecastData, load_series
from autoseq.exceptions import SearchError
from autoseq.model._builder import ModelContext, build_model, resolve_config
from autoseq.trial._fit import _val_scores
from autoseq.trial._objective import _collect_garbage, frozen_survivors

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("anchor, scaler, metric", [("none", "standard", "mse"),
                                                    ("seasonal", "robust", "mae"),
                                                    ("none", "minmax", "rmse")])
def test_val_scores_from_logs_equal_scores_from_predictions(series_csv, seed, anchor, scaler,
                                                            metric):
    import keras

    from autoseq.data._variants import data_variant

    data = ForecastData(load_series(series_csv, targets=["y"]), horizon=5)
    variant = data_variant(data, transform="none", scaler=scaler)
    config = resolve_config({"cell": "gru", "units": 4, "lookback": 14, "anchor": anchor},
                            builder="rnn", horizon=5, season=data.main_season,
                            max_lookback=data.max_lookback)
    ctx = ModelContext(lookback=14, n_inputs=data.n_inputs, horizon=5, n_targets=1, seed=seed,
                       season=data.main_season)
    keras.utils.set_random_seed(seed)
    model = build_model(config, ctx)
    train = data.dataset("train", lookback=14, batch_size=32, shuffle=True, seed=seed,
                         values=variant.values)
    val = data.dataset("val", lookback=14, batch_size=512, values=variant.values)
    history = model.fit(train, validation_data=val, epochs=1, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    assert "val_mae" in logs  # so the first call below takes the shortcut
    kwargs = dict(data=data, variant=variant, metric=metric)
    from_logs = _val_scores(model, val, logs=logs, **kwargs)
    from_predictions = _val_scores(model, val, logs={}, **kwargs)  # no val_mae: predicts
    np.testing.assert_allclose(from_logs, from_predictions, rtol=1e-4)
    assert from_logs[1] > 0


def test_frozen_survivors_freezes_between_trials_and_unfreezes_after():
    assert gc.get_freeze_count() == 0
    with frozen_survivors():
        _collect_garbage()
        assert gc.get_freeze_count() > 0
        with frozen_survivors():  # nested: leaves the outer block in charge
            pass
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    _collect_garbage()  # outside a search: collects, freezes nothing
    assert gc.get_freeze_count() == 0


def test_optuna_pruner_none_and_unknown(tmp_path, series_csv, tiny_space):
    engine = OptunaBackend(storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="s",
                           pruner="none")
    engine.open(meta={})
    assert isinstance(engine.study.pruner, optuna.pruners.NopPruner)
    engine.close()
    with pytest.raises(SearchError, match="pruner .* median, none. Received: sometimes"):
        autoseq.search(series_csv, target="y", horizon=5, space=tiny_space, trials=1,
                       out=tmp_path / "run", pruner="sometimes")
    assert not (tmp_path / "run").exists()


def test_a_trial_past_the_search_deadline_stops_after_its_epoch_and_keeps_it(airline_csv,
                                                                             tmp_path):
    """``--timeout`` holds: a trial running when the deadline passes ends at its next epoch
    (the deadline here is already past: its first), complete, with its weights and the reason."""
    import time

    from autoseq.space import Fixed, SearchSpace
    from autoseq.trial._objective import TrialSettings, run_trial
    from autoseq.trial._result import WEIGHTS

    class _NeverPrune:
        def report(self, value: float, epoch: int) -> bool:
            return False

    data = ForecastData(load_series(airline_csv, targets=["passengers"]), horizon=12)
    space = SearchSpace([Fixed("cell", "gru"), Fixed("units", 4), Fixed("lookback", 12),
                         Fixed("anchor", "last")], name="one")

    def trial(deadline, name):
        return run_trial(_NeverPrune(), _NeverPrune(), number=1, data=data, space=space,
                         settings=TrialSettings(max_epochs=4, patience=4, compile="off",
                                                deadline=deadline),
                         trial_dir=tmp_path / name)

    late = trial(time.monotonic() - 1, "late")
    assert (late.state, late.epochs, late.best_epoch) == ("complete", 1, 1)
    assert "--timeout was reached" in late.reason and "after epoch 1 of 4" in late.reason
    assert (tmp_path / "late" / WEIGHTS).is_file() and np.isfinite(late.val_loss)
    on_time = trial(time.monotonic() + 3600, "on_time")
    assert (on_time.epochs, on_time.reason) == (4, None)
