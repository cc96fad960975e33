"""Cut every sequence of a long-format CSV to a random length: a variable-length version of a
fixed-length set (e.g. UCR BasicMotions), to check padding, masking and bucketing on real data.

    python examples/cut_lengths.py ../shared/datasets/basicmotions_train.csv bm_train.csv
    python examples/cut_lengths.py ../shared/datasets/basicmotions_test.csv bm_test.csv --seed 1

Each sequence keeps its first L steps, L drawn uniformly from [--min, --max] (seeded).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--id-col", default="sequence_id")
    p.add_argument("--step-col", default="step")
    p.add_argument("--min", type=int, default=30)
    p.add_argument("--max", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    frame = pd.read_csv(a.src)
    rng = np.random.default_rng(a.seed)
    ids = frame[a.id_col].unique()
    keep = dict(zip(ids, rng.integers(a.min, a.max + 1, len(ids)), strict=True))
    rank = frame.groupby(a.id_col)[a.step_col].rank(method="first")
    out = frame[rank <= frame[a.id_col].map(keep)]
    out.to_csv(a.dst, index=False)
    lengths = out.groupby(a.id_col).size()
    print(f"{a.dst}: {len(lengths)} sequences, lengths {lengths.min()}–{lengths.max()}")


if __name__ == "__main__":
    main()
