import pytest

from autoseq.exceptions import SearchSpaceError
from autoseq.model._builder import check_space
from autoseq.space import (
    Bool,
    Choice,
    Fixed,
    Float,
    Int,
    SearchSpace,
    builtin_spaces_dir,
    list_spaces,
    load_search_space,
)


class _First:
    """A deterministic suggester: always the lowest value / first choice."""

    def suggest_int(self, name, low, high, *, step=1, log=False):
        return low

    def suggest_float(self, name, low, high, *, step=None, log=False):
        return low

    def suggest_categorical(self, name, choices):
        return choices[-1]


@pytest.mark.parametrize("name", list_spaces())
def test_every_shipped_space_loads_and_round_trips(name):
    space = load_search_space(name)
    check_space(space)
    assert SearchSpace.from_dict(space.to_dict()) == space
    # sequence spaces (classify*) pool the states; forecasting spaces look back a window
    shape = "pooling" if name.startswith("classify") else "lookback"
    assert {"cell", "depth", "units", shape, "learning_rate"} <= set(space.names)


def test_classify_space_covers_the_recurrent_space_and_the_heads():
    space = load_search_space("classify")
    assert {"cell", "depth", "units", "bidirectional", "dropout", "recurrent_dropout", "clipnorm",
            "clipvalue", "learning_rate", "batch_size", "class_weight"} <= set(space.names)
    assert space["pooling"].values == ("last", "mean", "max")


def test_default_space_covers_the_whole_recurrent_space():
    names = set(load_search_space("default").names)
    assert {"cell", "depth", "units", "bidirectional", "dropout", "recurrent_dropout", "clipnorm",
            "clipvalue", "learning_rate", "lookback", "batch_size"} <= names
    assert load_search_space("default")["cell"].values == ("simple_rnn", "lstm", "gru")


def test_conditions_leave_inactive_parameters_out():
    space = SearchSpace([Choice("clipping", ("none", "norm")),
                         Float("clipnorm", 0.1, 10, log=True, when={"clipping": ("norm",)}),
                         Bool("bidirectional"), Fixed("depth", 2), Int("units", 4, 8)])
    config = space.sample(_First())
    assert config == {"clipping": "norm", "clipnorm": 0.1, "bidirectional": True, "depth": 2,
                      "units": 4}
    no_clip = SearchSpace([Choice("clipping", ("norm", "none")),
                           Float("clipnorm", 0.1, 10, when={"clipping": ("norm",)})])
    assert "clipnorm" not in no_clip.sample(_First())


def _write(tmp_path, text):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("body", "message"), [
    ("parameters:\n  units: {type: int, low: 64, high: 8}\n",
     r"parameters.units: .*low must not exceed high"),
    ("parameters:\n  units: {type: int, low: 8, high: 64, steps: 2}\n",
     r"parameters.units: unknown key 'steps'"),
    ("parameters:\n  units: {type: integer, low: 8, high: 64}\n",
     r"parameters.units.type: must be one of"),
    ("parameters:\n  units: {type: int, low: eight, high: 64}\n",
     r"parameters.units.low: must be a number"),
    ("parameters:\n  cell: {type: choice, values: [lstm, transformer]}\n",
     r"parameters.cell: unknown cell 'transformer'"),
    ("parameters:\n  layers: {type: int, low: 1, high: 3}\n",
     r"parameters.layers: unknown parameter for builder 'rnn'"),
    ("parameters:\n  lookback: {type: choice, values: [1x season, 2 days]}\n",
     r"parameters.lookback: '2 days' is not a step count"),
    ("parameters:\n  clipnorm: {type: float, low: 0.1, high: 1, when: {clipping: norm}}\n",
     r"condition names 'clipping', which must be defined before it"),
    ("parameters: [units]\n", r"'parameters' must be a non-empty mapping"),
    ("parameters:\n  units: {type: int, low: 8\n", r"not valid YAML"),
])
def test_broken_space_files_name_the_file_and_key(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(SearchSpaceError, match=message) as err:
        check_space(load_search_space(path))
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_space_name_lists_the_built_in_ones():
    with pytest.raises(SearchSpaceError, match=r"unknown search space 'nope'; built-in spaces: "
                                               r"classify, classify_fast, default, fast"):
        load_search_space("nope")


def test_scientific_notation_without_a_dot_is_a_number(tmp_path):
    path = _write(tmp_path, "parameters:\n  learning_rate: {type: float, low: 1e-4, high: 1e-2, "
                            "log: true}\n")
    p = load_search_space(path)["learning_rate"]
    assert (p.low, p.high, p.log) == (1e-4, 1e-2, True)


def test_builtin_spaces_live_in_the_top_level_folder():
    assert builtin_spaces_dir().name == "search_spaces"
    assert (builtin_spaces_dir() / "default.yaml").is_file()
