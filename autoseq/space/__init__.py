"""Search spaces: neutral parameter types, conditions, and YAML I/O."""

from autoseq.space._params import Bool, Choice, Fixed, Float, Int, Param, Suggester
from autoseq.space._space import SearchSpace, builtin_spaces_dir, list_spaces, load_search_space

__all__ = [
    "Bool",
    "Choice",
    "Fixed",
    "Float",
    "Int",
    "Param",
    "SearchSpace",
    "Suggester",
    "builtin_spaces_dir",
    "list_spaces",
    "load_search_space",
]
