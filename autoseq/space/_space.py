"""``SearchSpace``: an ordered set of parameters, written in YAML or built in Python."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from autoseq.exceptions import SearchSpaceError
from autoseq.space._params import Bool, Choice, Fixed, Float, Int, Param, Suggester

_TYPES = {"int": Int, "float": Float, "choice": Choice, "bool": Bool, "fixed": Fixed}
_KEYS = {
    "int": {"type", "low", "high", "step", "log", "when"},
    "float": {"type", "low", "high", "step", "log", "when"},
    "choice": {"type", "values", "when"},
    "bool": {"type", "when"},
    "fixed": {"type", "value", "when"},
}
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class SearchSpace:
    """An ordered, immutable set of hyperparameters to search.

    Args:
        parameters: the parameters, in order; a condition may only name an earlier parameter.
        name: a short name, shown in the leaderboard and report.
        description: one line on what the space is for.
        builder: name of the registered model builder the configurations feed (default ``rnn``).

    Example:
        >>> space = SearchSpace([Choice("cell", ("lstm", "gru")), Int("units", 8, 64, log=True)],
        ...                     name="small")
    """

    parameters: tuple[Param, ...]
    name: str = "custom"
    description: str = ""
    builder: str = "rnn"
    source: str = field(default="<python>", compare=False)

    def __init__(self, parameters: Iterable[Param], *, name: str = "custom", description: str = "",
                 builder: str = "rnn", source: str = "<python>"):
        object.__setattr__(self, "parameters", tuple(parameters))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "builder", builder)
        object.__setattr__(self, "source", source)
        self._validate()

    def __getitem__(self, name: str) -> Param:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def with_parameters(self, parameters: Iterable[Param]) -> SearchSpace:
        """The same space (name, description, builder, source) over other ``parameters``."""
        return SearchSpace(parameters, name=self.name, description=self.description,
                           builder=self.builder, source=self.source)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def sample(self, suggester: Suggester) -> dict[str, Any]:
        """Draw one configuration; inactive conditional parameters are left out."""
        config: dict[str, Any] = {}
        for p in self.parameters:
            if p.active(config):
                config[p.name] = p.sample(suggester)
        return config

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form, loadable by ``SearchSpace.from_dict``."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.builder != "rnn":
            out["builder"] = self.builder
        out["parameters"] = {p.name: p.to_dict() for p in self.parameters}
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>") -> SearchSpace:
        """Parse the YAML/JSON form; errors name ``source`` and the key at fault."""
        if not isinstance(data, dict):
            raise SearchSpaceError(f"{source}: a search space must be a mapping with a "
                                   "'parameters' key")
        unknown = set(data) - {"name", "description", "builder", "parameters"}
        if unknown:
            raise SearchSpaceError(f"{source}: unknown top-level key '{sorted(unknown)[0]}'; "
                                   "allowed: name, description, builder, parameters")
        params = data.get("parameters")
        if not isinstance(params, dict) or not params:
            raise SearchSpaceError(f"{source}: 'parameters' must be a non-empty mapping of "
                                   "name → definition")
        parsed = [_parse_param(source, str(k), v) for k, v in params.items()]
        try:
            return cls(parsed, name=str(data.get("name", Path(source).stem)),
                       description=str(data.get("description", "")),
                       builder=str(data.get("builder", "rnn")), source=source)
        except SearchSpaceError as exc:
            raise SearchSpaceError(f"{source}: {exc}") from None

    def _validate(self) -> None:
        seen: list[str] = []
        for p in self.parameters:
            if not isinstance(p, Param):
                raise SearchSpaceError(f"parameters must be Int, Float, Choice, Bool or Fixed. "
                                       f"Received: {p!r}")
            if p.name in seen:
                raise SearchSpaceError(f"parameter '{p.name}' is defined twice")
            for parent, values in p.when.items():
                if parent not in seen:
                    raise SearchSpaceError(f"parameter '{p.name}': condition names '{parent}', "
                                           "which must be defined before it")
                par = self[parent]
                allowed = _discrete_values(par)
                if allowed is None:
                    raise SearchSpaceError(f"parameter '{p.name}': condition on '{parent}' needs "
                                           "a choice, bool or fixed parameter")
                for v in values:
                    if v not in allowed:
                        raise SearchSpaceError(f"parameter '{p.name}': condition value {v!r} is "
                                               f"not a value of '{parent}' {list(allowed)}")
            seen.append(p.name)


def _discrete_values(p: Param) -> tuple | None:
    if isinstance(p, Choice):
        return p.values
    if isinstance(p, Bool):
        return (False, True)
    if isinstance(p, Fixed):
        return (p.value,)
    return None


def _parse_param(source: str, name: str, spec: Any) -> Param:
    where = f"{source}: parameters.{name}"
    if not isinstance(spec, dict):
        if isinstance(spec, int | float | str | bool):
            return Fixed(name, spec)
        raise SearchSpaceError(f"{where}: expected a mapping with 'type' or a constant. "
                               f"Received: {spec!r}")
    kind = spec.get("type")
    if kind not in _TYPES:
        raise SearchSpaceError(f"{where}.type: must be one of {', '.join(_TYPES)}. "
                               f"Received: {kind!r}")
    extra = set(spec) - _KEYS[kind]
    if extra:
        raise SearchSpaceError(f"{where}: unknown key '{sorted(extra)[0]}' for type {kind}; "
                               f"allowed: {', '.join(sorted(_KEYS[kind]))}")
    when = _parse_when(where, spec.get("when"))
    try:
        if kind in ("int", "float"):
            for key in ("low", "high"):
                if key not in spec:
                    raise SearchSpaceError(f"{where}: missing '{key}'")
            low = _number(where, "low", spec["low"], integer=kind == "int")
            high = _number(where, "high", spec["high"], integer=kind == "int")
            log = _flag(where, "log", spec.get("log", False))
            if kind == "int":
                step = _number(where, "step", spec.get("step", 1), integer=True)
                return Int(name, low, high, step=step, log=log, when=when)
            step = spec.get("step")
            step = None if step is None else _number(where, "step", step, integer=False)
            return Float(name, float(low), float(high), log=log, step=step, when=when)
        if kind == "choice":
            values = spec.get("values")
            if not isinstance(values, list):
                raise SearchSpaceError(f"{where}.values: must be a list. Received: {values!r}")
            return Choice(name, tuple(_maybe_number(v) for v in values), when=when)
        if kind == "bool":
            return Bool(name, when=when)
        if "value" not in spec:
            raise SearchSpaceError(f"{where}: missing 'value'")
        return Fixed(name, _maybe_number(spec["value"]), when=when)
    except SearchSpaceError as exc:
        msg = str(exc)
        raise SearchSpaceError(msg if msg.startswith(source) else f"{where}: {msg}") from None


def _parse_when(where: str, when: Any) -> dict[str, tuple]:
    if when is None:
        return {}
    if not isinstance(when, dict):
        raise SearchSpaceError(f"{where}.when: must map a parameter to a value or list of values. "
                               f"Received: {when!r}")
    return {str(k): tuple(v) if isinstance(v, list) else (v,) for k, v in when.items()}


def _number(where: str, key: str, v: Any, *, integer: bool) -> int | float:
    v = _maybe_number(v)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise SearchSpaceError(f"{where}.{key}: must be a number. Received: {v!r}")
    if integer:
        if float(v) != int(v):
            raise SearchSpaceError(f"{where}.{key}: must be a whole number. Received: {v!r}")
        return int(v)
    return v


def _maybe_number(v: Any) -> Any:
    # YAML 1.1 reads "1e-3" (no dot) as a string; accept it as the number people meant.
    if isinstance(v, str) and _NUMBER.match(v.strip()):
        f = float(v)
        return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
    return v


def _flag(where: str, key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise SearchSpaceError(f"{where}.{key}: must be true or false. Received: {v!r}")
    return v


def builtin_spaces_dir() -> Path:
    """The folder of the built-in spaces (``search_spaces/``; ``AUTOSEQ_SPACES_DIR`` overrides)."""
    env = os.environ.get("AUTOSEQ_SPACES_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "search_spaces", here.parents[1] / "search_spaces"):
        if candidate.is_dir():
            return candidate
    return here.parents[2] / "search_spaces"


def list_spaces() -> list[str]:
    """Names of the built-in spaces."""
    return sorted(p.stem for p in builtin_spaces_dir().glob("*.yaml"))


def load_search_space(name_or_path: str | os.PathLike | SearchSpace) -> SearchSpace:
    """Load a built-in space by name, or a YAML file by path.

    Raises:
        SearchSpaceError: unknown name, unreadable file, or invalid content (names file and key).

    Example:
        >>> space = load_search_space("fast")
    """
    if isinstance(name_or_path, SearchSpace):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix in (".yaml", ".yml", ".json") or os.sep in text or path.exists()):
        path = builtin_spaces_dir() / f"{text}.yaml"
        if not path.exists():
            names = list_spaces()
            close = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise SearchSpaceError(f"unknown search space '{text}'; {hint}built-in spaces: "
                                   f"{', '.join(names)} (or pass a .yaml path)")
    if not path.is_file():
        raise SearchSpaceError(f"{path}: search-space file not found; check the path or name a "
                               f"built-in space ({', '.join(list_spaces())})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise SearchSpaceError(f"{path}: not valid YAML{at}; check the indentation and "
                               "colons") from None
    return SearchSpace.from_dict(data, source=str(path))
