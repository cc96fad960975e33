"""The report's words: Markdown escaping, lag blocks, durations and sentences (no TensorFlow)."""

import subprocess
import sys

import pytest

from autoseq.report._format import num, percent, rate
from autoseq.report._lags import duration, lag_blocks, share_sentence
from autoseq.report._render import md_escape


@pytest.mark.parametrize(("raw", "escaped"), [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("a|b", r"a\|b"),
    ("seasonal_naive(m=12)", r"seasonal\_naive(m=12)"),
    ("[x](javascript:alert(1))", r"\[x\](javascript:alert(1))"),
    ("- item", r"\- item"),
    ("1. first", r"1\. first"),
    ("two\nlines", "two lines"),
    ("*bold* `code` #h", r"\*bold\* \`code\` \#h"),
])
def test_md_escape(raw, escaped):
    assert md_escape(raw) == escaped


@pytest.mark.parametrize(("steps", "freq", "words"), [
    (1, "h", "1 hour"), (24, "h", "1 day"), (168, "h", "1 week"), (36, "h", "36 hours"),
    (12, "MS", "1 year"), (3, "MS", "3 months"), (48, "30min", "1 day"), (7, "D", "1 week"),
    (365, "D", "1 year"), (4, "QS-OCT", "1 year"), (52, "W-SUN", "1 year"), (5, None, "5 steps"),
    (1, "B", "1 trading day"), (10, "B", "2 weeks"), (3, "B", "3 trading days"),
])
def test_duration(steps, freq, words):
    assert duration(steps, freq) == words


def _blocks(*args, **kwargs):
    return [(b.label, b.ranges()) for b in lag_blocks(*args, **kwargs)]


def test_lag_blocks_follow_the_seasons():
    assert _blocks(48, horizon=12, seasons=[24, 168], freq="h") == [
        ("the last hour", "1"), ("the 11 hours before that", "2–12"),
        ("the same 12 hours yesterday", "13–24"), ("older hours", "25–48")]
    assert _blocks(336, horizon=24, seasons=[24, 168], freq="h") == [
        ("the last hour", "1"), ("the rest of the last day", "2–24"),
        ("the rest of the last week", "25–144"), ("the same day last week", "145–168"),
        ("older hours", "169–336")]
    assert _blocks(14, horizon=5, seasons=[7, 365], freq="D") == [
        ("the last day", "1"), ("the day before that", "2"),
        ("the same 5 days last week", "3–7"), ("older days", "8–14")]
    assert _blocks(24, horizon=12, seasons=[12], freq="MS") == [
        ("the last month", "1"), ("the rest of the last year", "2–12"),
        ("older months", "13–24")]


def test_lag_blocks_without_a_season_cover_the_window_once():
    blocks = lag_blocks(30, horizon=5, seasons=[], freq="D")
    assert [b.label for b in blocks] == ["the last day", "the 4 days before that", "older days"]
    lags = sorted(lag for b in blocks for lag in b.lags)
    assert lags == list(range(1, 31))
    assert [b.label for b in lag_blocks(1, horizon=1, seasons=[7], freq="D")] == ["the last day"]


def test_share_sentence():
    text = share_sentence(["the last hour", "the same 12 hours yesterday", "older hours"],
                          [0.6, 0.25, 0.15], what="block")
    assert text == ("The last hour carries 60% of the prediction, the same 12 hours yesterday "
                    "25%, older hours 15%.")
    cols = share_sentence(["load", "temp"], [0.2, 0.8], what="column",
                          prefix="Among the input columns")
    assert cols == "Among the input columns, temp carries 80% of the prediction, load 20%."
    assert "barely changes" in share_sentence(["a", "b"], [0.0, 0.0], what="block")


def test_numbers_for_people():
    assert num(2.4681606) == "2.468" and num(None) == "–" and num(1234567890.0) == "1.23e+09"
    assert rate(0.011653) == "1.2e-2"
    assert percent(0.312) == "31%" and percent(-0.07, signed=True) == "−7%"
    assert percent(0.312, signed=True) == "+31%"


def test_importing_the_report_api_does_not_import_tensorflow():
    code = ("import sys, autoseq; autoseq.write_report; import autoseq.report._render; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
