"""Options shared by several CLI commands, declared once."""

from __future__ import annotations

import click

from autoseq._interrupt import DEFAULT_GRACE
from autoseq.exceptions import DataError
from autoseq.searching._parallel import STORAGE_ENV

__all__ = ["JOBS", "SIZE", "STORAGE_ENV", "columns_option", "compile_option", "debug_option",
           "grace_option", "intervals_options", "joined_columns", "precision_option",
           "quiet_option"]


class _Jobs(click.ParamType):
    """``--jobs``: a number of worker processes (at least 1) or ``auto``."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            jobs = int(value)
        except ValueError:
            self.fail(f"must be a number of at least 1 or auto. Received: {value}", param, ctx)
        if jobs < 1:
            self.fail(f"must be at least 1 (or auto). Received: {value}", param, ctx)
        return jobs


JOBS = _Jobs()


def debug_option(f):
    return click.option("--debug", is_flag=True, expose_value=False, is_eager=True,
                        help="Show tracebacks on errors.")(f)


def precision_option(f):
    return click.option("--precision", type=click.Choice(["float32", "mixed"]),
                        help="mixed: float16 recurrent layers (mixed_float16), float32 outputs; "
                             "for GPUs [default: float32; a worker: the search's].")(f)


def compile_option(f):
    return click.option("--compile", type=click.Choice(["auto", "on", "off"]),
                        help="Train trials through XLA-compiled steps: auto (where it repays the "
                             "compile), on, or off (for a compiler bug) [default: auto; a "
                             "worker: the search's].")(f)


def grace_option(f):
    return click.option("--grace", type=click.FloatRange(min=0), default=DEFAULT_GRACE,
                        show_default=True,
                        help="Seconds from SIGTERM to exit 143: the running trial stops after "
                             "its current batch, or is abandoned when that takes longer; either "
                             "way it is queued again for another worker.")(f)


def intervals_options(f):
    f = click.option("--quantiles", metavar="Q1,Q2,…",
                     help="Forecasting: also serve these quantiles, in (0, 1), increasing (e.g. "
                          "0.1,0.5,0.9); predict writes <target>_q0.1….")(f)
    return click.option("--levels", metavar="L1,L2,…",
                        help="Forecasting: central intervals in percent, calibrated on the "
                             "validation windows and served beside the point forecast; predict "
                             "writes <target>_lo80, <target>_hi80… ('none': no interval) "
                             "[default: 80,95].")(f)


def columns_option(flag: str, plural: str, dest: str, *, help: str, plural_help: str,
                   aliases: tuple[str, ...] = ()):
    """A repeatable column option (``--static-col A --static-col B``) and its comma-separated
    form (``--static-cols A,B``): the command gets ``dest`` and ``dest_list``, which
    ``joined_columns`` joins."""
    def decorate(f):
        f = click.option(plural, f"{dest}_list", help=plural_help)(f)
        return click.option(flag, *aliases, dest, multiple=True, help=help)(f)
    return decorate


def joined_columns(kwargs: dict, dest: str) -> list[str]:
    """The columns of a ``columns_option`` (popped from ``kwargs``), repeated ones first."""
    commas = kwargs.pop(f"{dest}_list") or ""
    return list(kwargs.pop(dest)) + [c.strip() for c in commas.split(",") if c.strip()]


def quiet_option(f):
    return click.option("--quiet", "-q", is_flag=True, help="Print only errors and the result.")(f)


class SizeType(click.ParamType):
    """A row count (``50``) or a fraction in (0, 1) (``0.2``)."""

    name = "ROWS|FRACTION"

    def convert(self, value, param, ctx):
        if isinstance(value, int | float):
            return value
        try:
            num = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a row count or a fraction", param, ctx)
        if num <= 0:
            raise DataError(f"--{param.name.replace('_', '-')} must be a row count ≥ 1 or a "
                            f"fraction in (0, 1). Received: {value}")
        return int(num) if num >= 1 and num.is_integer() else num


SIZE = SizeType()
