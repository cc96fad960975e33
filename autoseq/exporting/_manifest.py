"""``autoseq.json``: what a model folder holds, and the checksums that prove it is unaltered."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from autoseq._io import read_json
from autoseq.exceptions import ModelError

MANIFEST = "autoseq.json"
FORMAT_VERSION = 2  # 2: the rolling MSTL profile is computed inside the model
SELF_CHECKSUM = "manifest_sha256"  # of the manifest itself, less this entry


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """SHA-256 of ``manifest`` (as read from its JSON) without ``SELF_CHECKSUM``, keys sorted."""
    rest = {k: v for k, v in manifest.items() if k != SELF_CHECKSUM}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode("utf-8")).hexdigest()


def file_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` except the manifest, by relative POSIX path."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST:
            out[rel] = _sha256(path)
    return out


def read_manifest(folder: str | Path, *, verify: bool = True) -> dict[str, Any]:
    """Read a model folder's manifest and (by default) verify every file's checksum.

    Raises:
        ModelError: no manifest, or a file was added, removed or changed since export.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelError(f"{folder}: not an autoseq model folder (no {MANIFEST}); pass the folder "
                         "'autoseq export' wrote")
    try:
        manifest = read_json(path)
    except ValueError:
        raise ModelError(f"{path}: is not valid JSON; re-export the model") from None
    if verify:
        if SELF_CHECKSUM in manifest and manifest[SELF_CHECKSUM] != manifest_checksum(manifest):
            raise ModelError(f"{path}: was edited since export (its content does not match "
                             f"its {SELF_CHECKSUM}); the folder was altered: re-export the model")
        expected = manifest.get("files", {})
        actual = file_checksums(folder)
        for rel in sorted(set(expected) | set(actual)):
            if rel not in actual:
                raise ModelError(f"{folder}: file '{rel}' listed in {MANIFEST} is missing; the "
                                 "folder was altered: re-export the model")
            if rel not in expected:
                raise ModelError(f"{folder}: file '{rel}' is not listed in {MANIFEST}; the folder "
                                 "was altered: re-export the model")
            if expected[rel] != actual[rel]:
                raise ModelError(f"{folder}: file '{rel}' does not match its SHA-256 in "
                                 f"{MANIFEST}; the folder was altered: re-export the model")
    return manifest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def served_label(manifest: dict[str, Any]) -> str:
    """What an exported model serves, in words: ``trial 17``, ``mean of 3 trials (17, 16, 1)``,
    or the choice ``export`` made on validation (a blend, a weighted ensemble, a baseline)."""
    if manifest.get("forecaster"):  # a panel's manifest names its forecaster
        return str(manifest["forecaster"])
    trial = manifest.get("trial")
    members = (manifest.get("ensemble") or {}).get("trials") or [trial]
    shown = ", ".join(str(t) for t in members[:5]) + (", …" if len(members) > 5 else "")
    chosen = (manifest.get("selection") or {}).get("chosen")
    if chosen and chosen != "best trial" and not re.fullmatch(r"mean of \d+ best trials", chosen):
        # "0.75 × best trial + 0.25 × linear(L=24)": name the trial
        return re.sub(r"\bbest trial\b(?!s)", f"trial {trial}", chosen)
    if len(members) == 1:
        return f"trial {trial}"
    return f"mean of {len(members)} trials ({shown})"
