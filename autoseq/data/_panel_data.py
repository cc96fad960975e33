"""A panel split per series and cut into windows for one global model.

Every series is split chronologically: its last ``test`` steps are test, the ``val`` steps
before them validation, the rest training (the search never sees test). A window is
``lookback`` steps of one series and the ``horizon`` after; windows that would start before a
series' first value are padded with that value. Each window is normalised by its own scale (the
mean absolute value of its lookback, ``window_scale``): the network sees scale-free inputs and
forecasts, so one network serves series of any size. The exported model divides and multiplies
by the same scale itself (``autoseq.model.layers_panel``).

A training epoch draws ``windows_per_epoch`` windows: a series uniformly, then one of its
training windows uniformly, so an epoch stays short however many series there are, and long
series do not outweigh short ones.

A panel with static columns (``--static-col``) gives a network that uses them (``uses_static``)
each window's series' static row beside the window: ``{"window": x, "static": s}``. The static
values are not divided by the window's scale; the network standardises them itself.

A panel with known-future covariates (``--future-covariates``) gives a network that uses them
(``uses_future``) their values over each window's horizon, ``future [W, horizon, n_future]``,
raw: not divided by the window's scale (a temperature means the same in every series); the
network standardises them with each feature's mean and standard deviation over every series'
training rows. Their past values are not in the window (its scale stays the target's): a
network that reads them takes the ``past`` input (below).

A panel with past covariates (``--covariates``) or known-future ones gives a network that uses
their past (``uses_past``) their values over the ``max_lookback`` steps before each window's
origin, ``past [W, max_lookback, n_past]``: the past covariates' features, then the
known-future covariates' features, raw (standardised inside the network like ``future``). The
input is as long as the longest lookback whatever a trial's own lookback (the network reads its
last ``lookback`` rows), so the members of an ensemble share it.
"""

from __future__ import annotations

import logging

import numpy as np

from autoseq.data._frequency import seasons_for
from autoseq.data._linear import linear_lookbacks
from autoseq.data._panel import Panel, listed
from autoseq.data._panel_future import PanelFuture
from autoseq.data._panel_static import STATIC
from autoseq.data._windows import FUTURE, PAST, WINDOW
from autoseq.exceptions import DataError
from autoseq.panel_metrics import m4_season, mase_scale

logger = logging.getLogger("autoseq")

SCALE_FLOOR = 1e-6  # the scale of an all-zero window: its forecast is 0, not NaN
WINDOWS_PER_EPOCH = 8192
_PARTS = ("train", "val", "test")


def window_scale(x: np.ndarray) -> np.ndarray:
    """Each window's scale: mean absolute value over its lookback, floored. ``[W, L]`` → ``[W]``."""
    return np.maximum(np.abs(x).mean(axis=1), SCALE_FLOOR)


def uses_static(config: dict, data: PanelData) -> bool:
    """Whether a trial of ``config`` takes the panel's static columns (it has some)."""
    return bool(config.get("static")) and data.n_static > 0


def uses_future(config: dict, data: PanelData) -> bool:
    """Whether a trial of ``config`` takes the panel's known-future covariates (it has some)."""
    return bool(config.get("future")) and data.n_future > 0


def uses_past(config: dict, data: PanelData) -> bool:
    """Whether a trial of ``config`` reads the past of the panel's covariates (it has some)."""
    return bool(config.get("past")) and data.n_past > 0


def side_inputs(config: dict, data: PanelData) -> tuple[str, ...]:
    """The inputs a trial of ``config`` takes beside its window: ``static``, ``future``,
    ``past``."""
    return tuple(name for name, used in ((STATIC, uses_static(config, data)),
                                         (FUTURE, uses_future(config, data)),
                                         (PAST, uses_past(config, data))) if used)


def taken_inputs(model) -> tuple[str, ...]:
    """The inputs ``model`` (a functional Keras model) takes beside its window."""
    inputs = model.input
    return tuple(n for n in (STATIC, FUTURE, PAST) if isinstance(inputs, dict) and n in inputs)


def _rows(size: float | int | None, lengths: np.ndarray, horizon: int, flag: str) -> np.ndarray:
    if size is None:
        return np.full(len(lengths), horizon, dtype="int64")
    if isinstance(size, float) and 0 < size < 1:
        return np.maximum(np.round(size * lengths).astype("int64"), horizon)
    if size < 1 or float(size) != int(size):
        raise DataError(f"{flag} must be a row count ≥ 1 or a fraction in (0, 1). "
                        f"Received: {size}")
    if int(size) < horizon:
        raise DataError(f"{flag} {int(size)} is shorter than --horizon {horizon}: each series' "
                        "part must hold one whole forecast")
    return np.full(len(lengths), int(size), dtype="int64")


class PanelData:
    """A ``Panel`` split per series, with windows, datasets and M4 scales.

    Args:
        panel: the series.
        horizon: steps to forecast.
        val_size: validation steps per series, or a fraction of each series (default
            ``horizon``).
        test_size: test steps per series, or a fraction (default ``horizon``).
        windows_per_epoch: windows drawn per training epoch (at most the training windows).

    Series too short for one training window (``horizon + 1`` training steps) are dropped and
    listed in ``dropped``.
    """

    task = "panel"
    metric_columns = ("val_smape", "val_mase", "val_owa")
    n_inputs = 1
    n_targets = 1
    target_idx = (0,)  # the window's one column is the target (as ``ForecastData`` says it)

    def __init__(self, panel: Panel, *, horizon: int, val_size=None, test_size=None,
                 windows_per_epoch: int = WINDOWS_PER_EPOCH):
        self.horizon = int(horizon)
        self.val_size, self.test_size = val_size, test_size
        val = _rows(val_size, panel.lengths, horizon, "--val-size")
        test = _rows(test_size, panel.lengths, horizon, "--test-size")
        keep = panel.lengths - val - test >= horizon + 1
        self.dropped = tuple(str(n) for n in panel.names[~keep])
        if not keep.any():
            raise DataError(f"{panel.source}: no series is long enough for one training window "
                            f"(needs {horizon + 1} steps before validation and test); shorten "
                            "--horizon, --val-size or --test-size, or pass longer series")
        if self.dropped:
            logger.warning("%s: %d series too short for one training window were dropped: %s",
                           panel.source, len(self.dropped), listed(self.dropped))
            panel = panel.select(keep)
        self.panel = panel
        # each series' static row [n_series, n_static]: raw values and 0/1 indicators
        self.static = (panel.statics.values.astype("float32") if panel.statics is not None
                       else np.zeros((panel.n_series, 0), dtype="float32"))
        self.val, self.test = val[keep], test[keep]
        self.lengths = panel.lengths
        self.train_end = self.lengths - self.val - self.test
        self.windows_per_epoch = int(windows_per_epoch)
        seasons = seasons_for(panel.freq)
        self.main_season = seasons[0] if seasons else 1
        self.seasons = seasons
        self.m4_season = m4_season(panel.freq)
        # a week of hourly (or half-hourly) steps fits whatever the horizon
        week = seasons[1] if len(seasons) > 1 and seasons[1] <= 8 * seasons[0] else 1
        self.max_lookback = int(min(max(4 * horizon, 2 * self.main_season, week), 1024))
        # the ``linear`` baseline's window lengths, at most the training history of a quarter
        # of the series (a backtest needs a full window): hourly, horizon 48, up to three
        # weeks, longer than the network's windows
        most = int(np.quantile(self.train_end, 0.25))
        self.linear_lookbacks = tuple(v for v in linear_lookbacks(self.horizon, seasons)
                                      if v <= most)
        self.pad_width = max((self.max_lookback, *self.linear_lookbacks))
        self._padded = None
        self._future_padded = None
        self._past_padded = None
        # AutoETS / AutoTheta beside the simple baselines (``--no-stat-baselines``: off)
        self.stat_baselines = True
        self.memo: dict = {}  # per-part results shared by trials (Naive2's scores, MASE scales)
        # a run folder where the statistical baselines' forecasts are kept (None: in memory)
        self.cache_dir = None

    # -- facts -------------------------------------------------------------------------------
    @property
    def n_series(self) -> int:
        return self.panel.n_series

    @property
    def fingerprint(self) -> str:
        return self.panel.fingerprint

    @property
    def n_future(self) -> int:
        """The width of the ``future`` input (0: the panel has no known-future covariates)."""
        return len(self.panel.future.features) if self.panel.future is not None else 0

    def future_standardisation(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(center, scale)`` of each known-future feature as the network standardises it: a
        numeric column's mean and standard deviation over every series' training rows (scale
        1 where it is constant), an indicator's 0 and 1; ``((), ())`` without any."""
        return self._standardisation(() if self.panel.future is None else (self.panel.future,))

    @property
    def n_past(self) -> int:
        """The width of the ``past`` input (0: the panel has no covariates)."""
        return sum(len(c.features) for c in self.panel.past_covariates)

    @property
    def past_steps(self) -> int:
        """The rows of the ``past`` input: the longest lookback a trial may draw."""
        return self.max_lookback

    def past_standardisation(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(center, scale)`` of each feature of the ``past`` input, as
        ``future_standardisation`` computes them; ``((), ())`` without covariates."""
        return self._standardisation(self.panel.past_covariates)

    def _standardisation(self, covariates: tuple[PanelFuture, ...]
                         ) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(center, scale)`` of ``covariates``' features, side by side, over every series'
        training rows."""
        rows = self.training_rows()
        parts = [c.standardisation(c.values[rows]) for c in covariates]
        return (tuple(float(v) for center, _ in parts for v in center),
                tuple(float(v) for _, scale in parts for v in scale))

    def training_rows(self) -> np.ndarray:
        """A mask over the panel's steps (``Panel.values``): those of each series' training
        part."""
        seg = np.repeat(np.arange(self.n_series), self.lengths)
        return np.arange(len(seg)) - self.panel.offsets[:-1][seg] < self.train_end[seg]

    @property
    def n_static(self) -> int:
        """The width of the ``static`` input (0: the panel has no static columns)."""
        return int(self.static.shape[1])

    def static_standardisation(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(center, scale)`` of each static feature over this data's series, as the network
        standardises them (``Statics.standardisation``); ``((), ())`` without static columns."""
        if self.panel.statics is None:
            return (), ()
        center, scale = self.panel.statics.standardisation()
        return tuple(map(float, center)), tuple(map(float, scale))

    def describe(self) -> dict:
        """The split, as ``run.json`` records it."""
        return {"series": self.n_series, "dropped": list(self.dropped),
                "val_rows": int(self.val.max()), "test_rows": int(self.test.max()),
                "train_rows": int(self.train_end.sum()), "horizon": self.horizon,
                "windows_per_epoch": self.windows_per_epoch}

    def anchor_season(self, config: dict) -> int:
        """The season of a configuration's seasonal anchor: the longest of the frequency's
        seasons that its lookback holds (twice for ``seasonal_drift``), else the main season.
        Hourly: lookback 168 (``7x season``) corrects the value a week earlier, shorter ones
        the value a day earlier."""
        lookback = int(config["lookback"])
        times = 2 if config.get("anchor") == "seasonal_drift" else 1
        fits = [s for s in self.seasons if 1 < s and times * s <= lookback]
        return max(fits) if fits else self.main_season

    def part_end(self, part: str) -> np.ndarray:
        """Each series' end (exclusive) of ``part``: ``train``, ``val``, ``test``/``all``."""
        ends = {"train": self.train_end, "val": self.train_end + self.val,
                "test": self.lengths, "all": self.lengths}
        return ends[part]

    def mase_scales(self, part: str = "val") -> np.ndarray:
        """Each series' MASE scale, from the steps before ``part`` (M4's seasonal period)."""
        if ("mase", part) not in self.memo:
            start = {"val": self.train_end, "test": self.train_end + self.val,
                     "future": self.lengths}[part]
            self.memo["mase", part] = np.array([
                mase_scale(self.panel.series(i)[:start[i]], self.m4_season)
                for i in range(self.n_series)])
        return self.memo["mase", part]

    def linear_fit(self, lookback: int | None = None):
        """The panel's ``linear`` baseline (``autoseq.data._panel_linear``): one linear
        autoregression over every series' normalised windows, its length chosen, or at
        ``lookback``."""
        from autoseq.data._panel_linear import panel_linear

        return panel_linear(self, lookback)

    # -- windows -----------------------------------------------------------------------------
    def origins(self, part: str, lookback: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(series, position)`` of every window of ``part``: the forecast covers steps
        ``position … position + horizon - 1`` of that series. ``future``: one window per
        series, after its last step. Training windows need one real step in their lookback."""
        h = self.horizon
        if part == "future":
            return np.arange(self.n_series), self.lengths.copy()
        if part == "train":
            lo = np.maximum(1, np.minimum(h, self.train_end - h))
            hi = self.train_end - h
        else:
            lo = self.train_end if part == "val" else self.train_end + self.val
            hi = lo + (self.val if part == "val" else self.test) - h
        counts = hi - lo + 1
        series = np.repeat(np.arange(self.n_series), counts)
        first = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts)
        return series, first + np.arange(counts.sum())

    def _pad(self) -> tuple[np.ndarray, np.ndarray]:
        """Every series preceded by ``pad_width`` copies of its first value."""
        if self._padded is None:
            p, lengths, offsets = self.pad_width, self.lengths, self.panel.offsets
            starts = np.r_[0, np.cumsum(lengths + p)[:-1]]
            seg = np.repeat(np.arange(self.n_series), lengths + p)
            k = np.arange(int((lengths + p).sum())) - starts[seg]
            values = self.panel.values[offsets[:-1][seg] + np.maximum(k - p, 0)]
            self._padded = (values.astype("float32"), starts + p)
            rows = offsets[:-1][seg] + np.maximum(k - p, 0)  # row for row with the padded values
            if self.panel.future is not None:
                self._future_padded = self.panel.future.values[rows].astype("float32")
            if self.panel.past_covariates:
                self._past_padded = self.panel.past_matrix()[rows].astype("float32")
        return self._padded

    def future_values(self, series: np.ndarray, position: np.ndarray) -> np.ndarray:
        """The known-future covariates over the horizon of the windows at ``(series,
        position)``, raw: ``[W, horizon, n_future]`` float32 (the windows of ``origins``' parts
        lie inside each series' history)."""
        _, zero = self._pad()
        at = zero[series] + position
        return self._future_padded[at[:, None] + np.arange(self.horizon)[None, :]]

    def past_values(self, series: np.ndarray, position: np.ndarray) -> np.ndarray:
        """The covariates over the ``past_steps`` steps before the windows at ``(series,
        position)``, raw: ``[W, past_steps, n_past]`` float32 (padded on the left with each
        series' first values, as the windows are)."""
        _, zero = self._pad()
        at = zero[series] + position
        return self._past_padded[at[:, None] + np.arange(-self.past_steps, 0)[None, :]]

    def windows(self, series: np.ndarray, position: np.ndarray, lookback: int, *,
                targets: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw windows ``[W, lookback]`` and their truth ``[W, horizon]`` (``None`` when not
        ``targets``), in the series' units."""
        values, zero = self._pad()
        at = zero[series] + position
        x = values[at[:, None] + np.arange(-lookback, 0)[None, :]]
        if not targets:
            return x, None
        return x, values[at[:, None] + np.arange(self.horizon)[None, :]]

    def feed(self, x: np.ndarray, origins: tuple[np.ndarray, np.ndarray],
             takes: tuple[str, ...] = ()):
        """A network's inputs for windows ``x`` at ``origins`` (``(series, position)``): ``x``
        itself, or ``{"window": x}`` with what the network ``takes`` beside it: ``static``
        (each window's series' static row), ``future`` (the known-future covariates over its
        horizon, raw), ``past`` (the covariates before its origin, raw)."""
        if not takes:
            return x
        series, position = origins
        side = {STATIC: lambda: self.static[series],
                FUTURE: lambda: self.future_values(series, position),
                PAST: lambda: self.past_values(series, position)}
        return {WINDOW: x} | {name: side[name]() for name in takes}

    def normalised(self, part: str, lookback: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Windows of ``part`` divided by their scale: ``x [W, L, 1]``, ``y [W, H, 1]``, scale."""
        x, y, scale = self.normalised_at(*self.origins(part), lookback)
        return x[..., None], y[..., None], scale

    def normalised_at(self, series: np.ndarray, position: np.ndarray, lookback: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The windows at ``(series, position)`` divided by their scale: ``x [W, L]``,
        ``y [W, H]`` and the scale ``[W]``."""
        x, y = self.windows(series, position, lookback)
        scale = window_scale(x)
        return x / scale[:, None], y / scale[:, None], scale

    def train_dataset(self, lookback: int, *, batch_size: int, seed: int = 0,
                      drop_remainder: bool = False, takes: tuple[str, ...] = ()):
        """``tf.data``: each epoch ``windows_per_epoch`` normalised training windows, a series
        drawn uniformly and then one of its windows, freshly drawn every epoch (with what the
        network ``takes`` beside them, as ``feed`` gives it)."""
        import tensorflow as tf

        series, position = self.origins("train")
        counts = np.bincount(series, minlength=self.n_series)
        first = np.r_[0, np.cumsum(counts)[:-1]]
        values, zero = self._pad()
        n = min(self.windows_per_epoch, len(series))
        consts = {k: tf.constant(v) for k, v in (
            ("counts", counts.astype("int64")), ("first", first.astype("int64")),
            ("at", (zero[series] + position).astype("int64")), ("values", values),
            ("static", self.static),
            ("future", self._future_padded if FUTURE in takes else np.zeros((0, 0), "float32")),
            ("past", self._past_padded if PAST in takes else np.zeros((0, 0), "float32")))}
        back = tf.range(-lookback, 0, dtype=tf.int64)
        before = tf.range(-self.past_steps, 0, dtype=tf.int64)
        ahead = tf.range(self.horizon, dtype=tf.int64)

        def batch(r):
            s = tf.math.floormod(r[:, 0], self.n_series)
            w = tf.math.floormod(r[:, 1], tf.gather(consts["counts"], s))
            at = tf.gather(consts["at"], tf.gather(consts["first"], s) + w)
            x = tf.gather(consts["values"], at[:, None] + back[None, :])
            y = tf.gather(consts["values"], at[:, None] + ahead[None, :])
            scale = tf.maximum(tf.reduce_mean(tf.abs(x), axis=1, keepdims=True), SCALE_FLOOR)
            x, y = (x / scale)[..., None], (y / scale)[..., None]
            if not takes:
                return x, y
            side = {STATIC: lambda: tf.gather(consts["static"], s),
                    FUTURE: lambda: tf.gather(consts["future"], at[:, None] + ahead[None, :]),
                    PAST: lambda: tf.gather(consts["past"], at[:, None] + before[None, :])}
            return {WINDOW: x} | {name: side[name]() for name in takes}, y

        pairs = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).map(
            lambda r: tf.math.abs(r)).batch(2).take(n)
        return (pairs.batch(batch_size, drop_remainder=drop_remainder).map(batch)
                .prefetch(tf.data.AUTOTUNE))

    def eval_dataset(self, part: str, lookback: int, *, batch_size: int = 1024,
                     takes: tuple[str, ...] = ()):
        """``tf.data`` of the normalised windows of ``part`` (in order, with what the network
        ``takes`` beside them) and their truth."""
        import tensorflow as tf

        x, y, _ = self.normalised(part, lookback)
        feed = self.feed(x, self.origins(part), takes)
        return tf.data.Dataset.from_tensor_slices((feed, y)).batch(batch_size)


__all__ = ["SCALE_FLOOR", "WINDOWS_PER_EPOCH", "PanelData", "side_inputs", "taken_inputs",
           "uses_future", "uses_past", "uses_static", "window_scale"]
