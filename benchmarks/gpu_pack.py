"""A prepared set packed for a GPU machine, in parts that each fit one device call.

    .venv/bin/python benchmarks/gpu_pack.py data/prepared/photos-all --out .gpu-data/photos-all
        [--eval cbsd68=../shared/data/cbsd68 imagenet-test=data/prepared/imagenet1k
                photos-extra-test=data/prepared/photos-extra]
        [--part-mib 40] [--first-part-mib 20] [--quality 90]

A device call carries 64 MiB in all: the checkout (about 19 MiB), the wheels (about 19
MiB) and what ``carry`` names. photos-all's 6,905 training and validation photos are
about 1 GB as prepared shards and 89 MiB as 224-pixel WebP, so they travel in parts, one
part a call (with the three evaluation sets: 4 parts, 126 MiB, benchmarks/RESULTS.md); the machine keeps what an earlier call carried while it stays warm (the
device README: ignored paths already there are kept between calls), so the calls go back
to back and the last one trains. Each part is a folder ``OUT/part-NN`` holding:

    train-NN/       photos of PREPARED's train and val splits, 224 x 224 WebP (--quality):
                    the device prepares them again with no test split (--test-percent 0),
                    so no test photo of this machine's set is ever trained on there
    eval-NAME/      an evaluation set, whole in one part (the first parts): a folder's
                    images copied as they are, a prepared set's test split as lossless WebP
                    (the same pixels ``colorpast evaluate`` scores here: the figures compare)
    PART.json       which part of how many, of which pack, and how many files it holds

The first part is kept under --first-part-mib because that call carries the wheels too.
The script prints the device calls last (``benchmarks/gpu_quality.sh --pack OUT`` checks
every part is there and whole before it trains, and names a missing one in one line).
Writing again over the same --out starts the pack afresh; an --out that holds anything but
a pack's parts is refused, never emptied.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PART = "PART.json"
TRAIN = "train"
EVAL = "eval-"


def _webp(rgb, quality: int) -> bytes:
    from PIL import Image

    b = io.BytesIO()
    Image.fromarray(rgb).save(b, "WEBP", quality=quality, method=4)
    return b.getvalue()


def _lossless(rgb) -> bytes:
    from PIL import Image

    b = io.BytesIO()
    Image.fromarray(rgb).save(b, "WEBP", lossless=True, quality=100, method=4)
    return b.getvalue()


def _eval_files(path: Path):
    """``(name, bytes)`` of one evaluation set: a prepared set's test split as lossless
    WebP, a folder's images as they are."""
    from colorpast.data import shards
    from colorpast.photofiles import find_images

    if (path / shards.SUMMARY).is_file():
        images = shards.open_split(path, "test")
        for i in range(len(images)):
            yield f"{i:05d}.webp", _lossless(images[i])
    elif path.is_dir():
        for f in find_images([path]):
            yield str(f.relative_to(path)).replace("/", "_"), f.read_bytes()
    else:
        raise SystemExit(f"gpu_pack: {path}: no such prepared set or folder")


def _train_files(prepared: Path, quality: int):
    from colorpast.data import shards

    for split in ("train", "val"):
        images = shards.open_split(prepared, split)
        for i in range(len(images)):
            yield f"{split}-{i:05d}.webp", _webp(images[i], quality)


def pack(prepared, out, evals: dict, part_mib: float = 40, first_part_mib: float = 20, quality: int = 90,
         log=print) -> list[Path]:
    """Write the parts; returns their folders in order."""
    from colorpast.data import shards

    prepared, out = Path(prepared), Path(out)
    if not (prepared / shards.SUMMARY).is_file():
        raise SystemExit(f"gpu_pack: {prepared} is not a prepared set (colorpast prepare SOURCE --out {prepared})")
    for name in evals:
        if not name or not all(c.isalnum() or c in "_-." for c in name):
            raise SystemExit(f"gpu_pack: evaluation set name {name!r}: letters, digits, '.', '_' and '-' only")
    if out.exists():  # an earlier pack goes; anything else is refused, never deleted
        other = [f for f in out.iterdir() if not (f.is_dir() and f.name.startswith("part-") and (f / PART).is_file())]
        if other:
            raise SystemExit(f"gpu_pack: {out} holds {other[0].name}, not a pack's part: give an empty or new --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    parts: list[Path] = []
    state = {"bytes": 0.0}

    def limit(k: int) -> float:  # of part k (0: the first, whose call carries the wheels too)
        return (first_part_mib if k == 0 else part_mib) * 2**20

    def place(sub: str, files: list[tuple[str, bytes]]) -> None:
        """Into the current part, or a new one when they would not fit: an evaluation
        set comes whole (one folder scored at once), the training photos one by one."""
        size = sum(len(d) for _, d in files)
        if not parts or state["bytes"] + size > limit(len(parts) - 1):
            parts.append(out / f"part-{len(parts) + 1:02d}")
            state["bytes"] = 0.0
            if size > limit(len(parts) - 1):
                log(f"gpu_pack: {sub} is {size / 2**20:.2f} MiB, over a part's {limit(len(parts) - 1) / 2**20:g}: "
                    "a part of its own (its call must still carry it beside the checkout)")
        d = parts[-1] / sub
        d.mkdir(parents=True, exist_ok=True)
        for name, data in files:
            (d / name).write_bytes(data)
        state["bytes"] += size

    for name, path in evals.items():
        place(EVAL + name, list(_eval_files(Path(path))))
        log(f"gpu_pack: evaluation set {name} packed from {path}")
    for fname, data in _train_files(prepared, quality):
        place(TRAIN, [(fname, data)])
    for d in parts:  # each its own name: prepare names a photo by its folder, and refuses two alike
        if (d / TRAIN).is_dir():
            (d / TRAIN).rename(d / f"{TRAIN}-{d.name[len('part-'):]}")
    pack_id = hashlib.sha256(f"{prepared.resolve()} {sorted(evals.items())} {quality} {len(parts)}".encode()
                             ).hexdigest()[:12]
    for k, d in enumerate(parts, 1):
        files = {sub.name: len(list(sub.iterdir())) for sub in sorted(d.iterdir())}
        (d / PART).write_text(json.dumps({"pack": pack_id, "part": k, "of": len(parts), "files": files,
                                          "from": str(prepared), "quality": quality}, indent=1) + "\n")
        size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        log(f"gpu_pack: {d} {size / 2**20:.2f} MiB: " + ", ".join(f"{n} {c}" for n, c in files.items()))
    return parts


def check(pack_dir) -> dict:
    """``{"train": [folders], "eval": {name: folder}}`` of a pack whose every part is there
    and whole; SystemExit with one line naming what is missing."""
    pack_dir = Path(pack_dir)
    found = sorted(pack_dir.glob(f"part-*/{PART}")) if pack_dir.is_dir() else []
    if not found:
        raise SystemExit(f"gpu_quality: {pack_dir} holds no pack part: carry its parts (benchmarks/gpu_pack.py "
                         "prints the calls)")
    infos = [json.loads(f.read_text()) for f in found]
    first = infos[0]
    have = {i["part"] for i in infos if i["pack"] == first["pack"]}
    missing = [k for k in range(1, first["of"] + 1) if k not in have]
    if missing or len(infos) != len(have):
        raise SystemExit(f"gpu_quality: {pack_dir} lacks part {', '.join(f'{k:02d}' for k in missing) or '?'} of "
                         f"{first['of']} (or holds parts of another pack): the machine went back between calls; "
                         "carry every part again, back to back")
    train, evals = [], {}
    for f, info in zip(found, infos):
        for sub, count in info["files"].items():
            d = f.parent / sub
            if not d.is_dir() or len(list(d.iterdir())) != count:
                raise SystemExit(f"gpu_quality: {d} is not whole ({count} files packed): carry "
                                 f"{f.parent.name} again")
            if sub.startswith(TRAIN):
                train.append(d)
            else:
                evals[sub[len(EVAL):]] = d
    return {"train": train, "eval": evals}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("prepared", help="the prepared set whose train and val splits train on the device")
    p.add_argument("--out", required=True, help="a git-ignored folder of this checkout (.gpu-data/NAME)")
    p.add_argument("--eval", nargs="*", metavar="NAME=PATH", default=[],
                   help="evaluation sets: a folder of photos, or a prepared set (its test split)")
    p.add_argument("--part-mib", type=float, default=40, help="the most a part may hold (default 40)")
    p.add_argument("--first-part-mib", type=float, default=20,
                   help="the most the first part may hold: its call carries the wheels too (default 20)")
    p.add_argument("--quality", type=int, default=90, help="WebP quality of the training photos (default 90)")
    a = p.parse_args(argv)
    bad = [e for e in a.eval if "=" not in e]
    if bad:
        raise SystemExit(f"gpu_pack: --eval {bad[0]!r}: give NAME=PATH")
    evals = dict(e.split("=", 1) for e in a.eval)
    parts = pack(a.prepared, a.out, evals, a.part_mib, a.first_part_mib, a.quality)
    print(f"\ngpu_pack: {len(parts)} parts; the device calls, back to back (the machine goes back when idle):")
    for k, d in enumerate(parts, 1):
        carry = [".whl", str(d)] if k == 1 else [str(d)]
        command = (f"bash benchmarks/gpu_quality.sh --pack {a.out} [options]" if k == len(parts)
                   else f"du -sh {a.out}/part-*")
        print(f"  call {k}: carry {json.dumps(carry)}; command: {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
