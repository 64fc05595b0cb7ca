"""Films (issue 37): flicker and accuracy, speed, memory, the flow, the cuts, a before/after figure.

    # flicker, CIEDE2000 and colourfulness of each way of carrying colour, per clip and the
    # mean, against the goals (temporal <= 1.3 x the truth's and <= 0.5 x frame by frame,
    # CIEDE2000 <= frame by frame + 0.3); a way is EVERY:KEEP[:FLOW[:nocuts]]
    python benchmarks/bench_film.py quality --model effunet:bundled --clips ../shared/data/video [--limit N] \\
        [--ways 1:0 3:0.8 4:0.9]
    # frames/s of the whole job (decode, colour, encode, join with the sound) on a clip's first N frames
    python benchmarks/bench_film.py speed --model effunet:bundled --clip CLIP [--frames 240] [--way 3:0.8]
    # peak RSS of `colorpast colorize` on a clip and on the clip repeated to --minutes (made in --work)
    python benchmarks/bench_film.py memory --model effunet:bundled --clip CLIP --work /tmp/films [--minutes 10]
    # the DIS settings: a point's lag on a made-up square after 50 frames, time a frame, held share / residual
    python benchmarks/bench_film.py flow --clips ../shared/data/video
    # cuts found on each clip (the clips' README lists the true ones)
    python benchmarks/bench_film.py cuts --clips ../shared/data/video
    # a few frames of one clip, gray | coloured, as a JPEG for the README
    python benchmarks/bench_film.py figure --model effunet:bundled --clip CLIP --frames 0 100 200 --out F.jpg

Timings: pause other work on the machine first; every figure in RESULTS.md says what ran.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from _common import machine, peak_rss

ROOT = Path(__file__).resolve().parents[1]


def parse_way(text: str):
    """``EVERY:KEEP[:FLOW[:nocuts]]`` -> (label, Carry); ``1:0`` is frame by frame."""
    from colorpast.video.carry import Carry

    parts = text.split(":")
    every, keep = int(parts[0]), float(parts[1])
    flow = parts[2] if len(parts) > 2 and parts[2] else "half"
    cuts = not (len(parts) > 3 and parts[3] == "nocuts")
    label = "frame by frame" if (every, keep) == (1, 0.0) and flow == "half" and cuts else (
        f"every {every}, keep {keep:g}" + ("" if flow == "half" else f", flow {flow}") + ("" if cuts else ", no cuts"))
    return label, Carry(every=every, keep=keep, flow=flow, cuts=cuts).check()


def clips(given) -> list[Path]:
    from colorpast.video.reader import find_films

    return find_films(given)


def quality(a) -> None:
    from colorpast.colorizer import load_model
    from colorpast.video.evaluate import score_film

    model = load_model(a.model)
    ways = dict(parse_way(w) for w in a.ways)
    if "frame by frame" not in ways:
        ways = {"frame by frame": parse_way("1:0")[1], **ways}
    methods = {label: (model, c) for label, c in ways.items()}
    rows = []
    for clip in clips(a.clips):
        t = time.perf_counter()
        film_rows, _ = score_film(clip, methods, limit=a.limit, progress=False)
        by = {r["method"]: r for r in film_rows}
        base = by["frame by frame"]
        for r in film_rows:
            r["x_frame_by_frame"] = r["temporal"] / base["temporal"] if base["temporal"] else float("nan")
            r["d_ciede2000"] = r["ciede2000"] - base["ciede2000"]
        rows += film_rows
        print(f"{clip.name}: {by['truth']['frames']} frames, {by['truth']['cuts']} cut(s), {time.perf_counter() - t:.0f} s",
              flush=True)
    table = _quality_table(rows, list(ways))
    print(table)
    if a.json:
        Path(a.json).write_text(json.dumps({"model": a.model, "limit": a.limit, "rows": rows}, indent=1, default=float))


def _quality_table(rows, ways) -> str:
    heads = ["clip", "video", "temporal ΔE00", "× truth's", "× frame by frame", "CIEDE2000", "Δ vs frame by frame",
             "colourfulness", "model frames"]
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]

    def line(clip, r):
        model_frames = f"{r['model_frames']}/{r['frames']}" if "model_frames" in r else ""
        vs = "" if r["method"] in ("truth", "gray") else f"{r['x_frame_by_frame']:.2f}"
        d = "" if r["method"] in ("truth", "gray") or not np.isfinite(r["d_ciede2000"]) else f"{r['d_ciede2000']:+.2f}"
        def f(v, fmt):
            return "-" if not np.isfinite(v) else fmt.format(v)

        return (f"| {clip} | {r['method']} | {r['temporal']:.3f} | {f(r['x_truth'], '{:.2f}')} | {vs} | "
                f"{f(r['ciede2000'], '{:.2f}')} | {d} | {r['colorfulness']:.1f} | {model_frames} |")

    for r in rows:
        out.append(line(r["film"], r))
    goals = []
    for m in ["truth", "gray", *ways]:
        mine = [r for r in rows if r["method"] == m]
        mean = {k: float(np.nanmean([r[k] for r in mine])) if any(np.isfinite(r[k]) for r in mine) else float("nan")
                for k in ("temporal", "x_truth", "x_frame_by_frame", "ciede2000", "d_ciede2000", "colorfulness")}
        mean["method"] = m
        out.append(line(f"**mean of {len(mine)}** ({sum(r['colour'] for r in mine)} in colour)", mean))
        if m not in ("truth", "gray", "frame by frame"):
            ok = [mean["x_truth"] <= 1.3, mean["x_frame_by_frame"] <= 0.5, mean["d_ciede2000"] <= 0.3]
            worst = [np.nanmax([r[k] for r in mine]) for k in ("x_truth", "x_frame_by_frame", "d_ciede2000")]
            goals.append(f"{m}: mean × truth's {mean['x_truth']:.2f} ({'met' if ok[0] else 'missed'}: <= 1.3; "
                         f"worst clip {worst[0]:.2f}), × frame by frame {mean['x_frame_by_frame']:.2f} "
                         f"({'met' if ok[1] else 'missed'}: <= 0.5; worst {worst[1]:.2f}), CIEDE2000 "
                         f"{mean['d_ciede2000']:+.2f} ({'met' if ok[2] else 'missed'}: <= +0.3; worst {worst[2]:+.2f})")
    return "\n".join(out) + "\n\n" + "\n".join(goals)


def speed(a) -> None:
    from colorpast.colorizer import load_model
    from colorpast.video import film, reader

    model = load_model(a.model)
    info = reader.probe(a.clip)
    label, way = parse_way(a.way)
    out = Path(a.work)
    film.colorize_film(a.clip, model, out / "warm", carry=way, preview=3 / float(info.fps), progress=False)  # compiles
    seconds = a.frames / float(info.fps)
    t = time.perf_counter()
    r = film.colorize_film(a.clip, model, out / "timed", carry=way, preview=seconds, progress=False)
    wall = time.perf_counter() - t
    print(f"{Path(a.clip).name}: {info.width} x {info.height}, {r.frames} frames ({label}; the model on "
          f"{r.model_frames}) in {wall:.1f} s: {r.frames / wall:.2f} frames/s, decode to the joined MP4; {machine()}")


def _concat(clip: Path, dest: Path, minutes: float) -> Path:
    """``clip`` repeated, its video and sound packets copied (no re-encoding), to ``minutes``
    of film at ``dest``: each copy starts a tenth of a second after the longer of the clip's
    streams ends (B-frames start decoding before their first picture: the gap keeps every
    stream's decoding times rising)."""
    import av

    if dest.is_file():
        return dest
    with av.open(str(clip)) as src:
        kept = [s.index for s in src.streams if s.type in ("video", "audio")]
        length = max(Fraction(p.pts + (p.duration or 0)) * p.time_base for p in src.demux()
                     if p.stream.index in kept and p.pts is not None) + Fraction(1, 10)  # seconds
    copies = max(1, round(minutes * 60 / float(length)))
    tmp = dest.with_name("partial-" + dest.name)
    with av.open(str(tmp), "w") as out:
        with av.open(str(clip)) as src:
            outs = {i: out.add_stream_from_template(src.streams[i], opaque=True) for i in kept}
        for k in range(copies):
            with av.open(str(clip)) as src:
                for p in src.demux():
                    if p.stream.index not in outs or p.dts is None or not p.size:
                        continue
                    shift = round(k * length / p.time_base)
                    p.pts, p.dts = p.pts + shift, p.dts + shift
                    p.stream = outs[p.stream.index]
                    out.mux(p)
    tmp.rename(dest)
    return dest


def memory(a) -> None:
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    long = _concat(Path(a.clip), work / f"long-{a.minutes:g}min{Path(a.clip).suffix}", a.minutes)
    for film_path in (Path(a.clip), long):
        cmd = [sys.executable, "-m", "colorpast", "colorize", str(film_path), "--model", a.model, "--out",
               str(work / "out"), *a.options]
        gb, wall, said = peak_rss(cmd, cwd=ROOT)
        done = next((ln for ln in said.splitlines() if ln.startswith("coloured")), "")
        print(f"{film_path.name}: peak RSS {gb:.2f} GB, {wall:.0f} s; {done.split(' (', 1)[-1]}", flush=True)


def flow(a) -> None:
    import cv2

    from colorpast.colorizer import working_size
    from colorpast.video import flow as F, points, reader
    from film_fixture import moving_square

    frames, corners = moving_square(51, shape=(224, 384), side=48, step=(1, 0.2), start=(40, 80))
    grays = {}
    for clip in clips(a.clips)[: a.max_clips]:
        info = reader.probe(clip)
        ws = working_size(info.height, info.width, 224, 32)
        grays[clip.name] = [cv2.resize(cv2.cvtColor(f.rgb, cv2.COLOR_RGB2GRAY), ws[::-1], interpolation=cv2.INTER_AREA)
                            for f in reader.frames(clip) if f.index < 60][:60]
    settings = {"OpenCV FAST (quarter, variational refinement)": (cv2.DISOPTICAL_FLOW_PRESET_FAST, 2),
                **{f"ULTRAFAST at {k}": (cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, v) for k, v in F.Flow.PRESETS.items()}}
    print(f"| DIS | lag after 50 frames (px) | ms a frame (both ways, check) | {' | '.join(grays)} (held / residual) |")
    print("|---|---|---|" + "---|" * len(grays))
    for name, (preset, scale) in settings.items():
        f = F.Flow()
        f.dis = cv2.DISOpticalFlow_create(preset)
        f.dis.setFinestScale(scale)
        tr = points.Tracker([points.FilmPoint(0, 64, 104, (0.0, 0.0))], (224, 384), (224, 384))
        before = None
        for i, rgb in enumerate(frames):
            g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            if before is not None:
                tr.move(F.step(f, before, g).forward)
            tr.begin(i)
            before = g
        (x, y), = tr.positions()
        lag = float(np.hypot(x - corners[50][0] - 24, y - corners[50][1] - 24))
        cells, t, n = [], 0.0, 0
        for gs in grays.values():
            held, resid = [], []
            for p, q in zip(gs[:-1], gs[1:]):
                t0 = time.perf_counter()
                s = F.step(f, p, q)
                t += time.perf_counter() - t0
                n += 1
                held.append(s.share)
                resid.append(np.abs(F.warp(p, s.back).astype(int) - q)[s.held].mean())
            cells.append(f"{np.mean(held):.2f} / {np.mean(resid):.2f}")
        print(f"| {name} | {lag:.1f} | {t / max(n, 1) * 1000:.1f} | {' | '.join(cells)} |")
    print(machine())


def cuts(a) -> None:
    from colorpast.bands import full_res_L, resize_area
    from colorpast.colorizer import working_size
    from colorpast.video import flow as F, reader

    f = F.Flow()
    for clip in clips(a.clips):
        info = reader.probe(clip)
        ws = working_size(info.height, info.width, 224, 32)
        before, found, other = None, [], []
        for fr in reader.frames(clip):
            g = F.gray8(resize_area(full_res_L(fr.rgb), ws))
            if before is not None:
                s = F.step(f, before, g)
                (found if s.cut else other).append((fr.index, s.share, s.residual))
            before = g
        low = [o for o in other if o[1] < F.CUT_HELD]
        fps = float(info.fps)
        said = ", ".join(f"{i / fps:.2f} s (held {s:.0%}, differs {r:.0f})" for i, s, r in found) or "none"
        line = f"{clip.name}: cuts at {said}"
        if low:
            line += f"; other frames held on < {F.CUT_HELD:.0%}: {len(low)}, differing by {max(o[2] for o in low):.1f} at most"
        if other:
            i, s, r = max(other, key=lambda o: o[2])
            line += f"; the most different other frame: {r:.1f} (held {s:.0%}, at {i / fps:.2f} s)"
        print(line, flush=True)


def figure(a) -> None:
    from PIL import Image

    from colorpast.colorizer import gray, load_model
    from colorpast.video import carry, reader

    model = load_model(a.model)
    info = reader.probe(a.clip)
    c = carry.FilmColorizer(model, (info.height, info.width))
    rows, drawn, last = [], [], -1
    for fr in reader.frames(a.clip):
        if fr.index > max(a.frames):
            break
        last = fr.index
        out = c(fr.index, fr.rgb)
        if fr.index in a.frames:
            g = np.clip(np.rint(gray(fr.rgb) * 255), 0, 255).astype(np.uint8)
            rows.append(np.concatenate([g, np.full((info.height, 8, 3), 255, np.uint8), out], axis=1))
            drawn.append(fr.index)
    beyond = sorted(set(a.frames) - set(drawn))
    if beyond:  # past the clip's end: said, not drawn as if they were there
        raise SystemExit(f"bench_film: {Path(a.clip).name} has no frame {', '.join(map(str, beyond))} "
                         f"(its last is {last}); give frames within it")
    sheet = np.concatenate([np.pad(r, ((0, 8), (0, 0), (0, 0)), constant_values=255) for r in rows])[:-8]
    im = Image.fromarray(sheet)
    if im.width > a.width:
        im = im.resize((a.width, round(im.height * a.width / im.width)), Image.LANCZOS)
    im.save(a.out, quality=88)
    print(f"{a.out}: frames {', '.join(map(str, a.frames))} of {Path(a.clip).name}, gray | coloured ({a.model}), "
          f"{im.width} x {im.height}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--model", required=True)
    q.add_argument("--clips", nargs="+", required=True)
    q.add_argument("--limit", type=int, help="the first N frames of each clip")
    q.add_argument("--ways", nargs="+", default=["1:0", "3:0.8"])
    q.add_argument("--json")
    s = sub.add_parser("speed")
    s.add_argument("--model", required=True)
    s.add_argument("--clip", required=True)
    s.add_argument("--frames", type=int, default=240)
    s.add_argument("--way", default="3:0.8")
    s.add_argument("--work", default="/tmp/bench_film")
    m = sub.add_parser("memory")
    m.add_argument("--model", required=True)
    m.add_argument("--clip", required=True)
    m.add_argument("--work", required=True)
    m.add_argument("--minutes", type=float, default=10)
    m.add_argument("options", nargs="*", help="more colorize options, after --")
    f = sub.add_parser("flow")
    f.add_argument("--clips", nargs="+", required=True)
    f.add_argument("--max-clips", type=int, default=4)
    c = sub.add_parser("cuts")
    c.add_argument("--clips", nargs="+", required=True)
    g = sub.add_parser("figure")
    g.add_argument("--model", required=True)
    g.add_argument("--clip", required=True)
    g.add_argument("--frames", type=int, nargs="+", default=[0, 100, 200])
    g.add_argument("--out", required=True)
    g.add_argument("--width", type=int, default=1200)
    a = ap.parse_args()
    from colorpast.errors import UserError

    try:
        {"quality": quality, "speed": speed, "memory": memory, "flow": flow, "cuts": cuts, "figure": figure}[a.what](a)
    except UserError as e:  # a model or clip that is not there: one line, as colorpast's own commands say it
        raise SystemExit(f"bench_film: {e}") from None


if __name__ == "__main__":
    main()
