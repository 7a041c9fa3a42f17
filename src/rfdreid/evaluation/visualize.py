"""Pictures of results: ranked lists (paper Fig. 4), rank-1 per split (paper Fig. 5) and
verification ROC / distance histograms.

Why real sizes: Fig. 4 shows every image at its own resolution (no resizing), so a reader
sees which resolutions the model matched; here images are bottom-aligned in one row:
the query, a red dashed separator, then the top-k, framed green (true match) or red.

Row layout, in pixels (width = PAD + w_query + SEPARATOR + sum(w_i) + k * PAD)::

    PAD | query | SEPARATOR (dashed line) | g_1 | PAD | g_2 | PAD | ... | g_k | PAD
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from rfdreid.data.degrade import load_as_seen
from rfdreid.data.images import read_image
from rfdreid.data.records import ImageRecord
from rfdreid.evaluation.verification import PairDistances, histograms, roc

PAD = 8  # around every image; holds the FRAME
SEPARATOR = 24  # gap between the query and the ranked list, with the dashed line
FRAME = 3
LABEL_HEIGHT = 14  # text row under the images (distances)
Colour = tuple[int, int, int]
MATCH_COLOUR: Colour = (0, 170, 0)
MISS_COLOUR: Colour = (220, 0, 0)
LINE_COLOUR: Colour = (220, 0, 0)
DASH = (6, 4)  # on, off


def ranking_size(query: Image.Image, ranked: Sequence[Image.Image]) -> tuple[int, int]:
    """(width, height) of the ranking picture of these images."""
    width = PAD + query.width + SEPARATOR + sum(im.width for im in ranked) + len(ranked) * PAD
    height = PAD + max(im.height for im in [query, *ranked]) + PAD + LABEL_HEIGHT
    return width, height


def _as_image(image: str | Path | Image.Image) -> Image.Image:
    return image if isinstance(image, Image.Image) else read_image(image)


def draw_ranking(
    query: str | Path | Image.Image,
    ranked: Sequence[str | Path | Image.Image],
    matches: Sequence[bool] | None,
    distances: Sequence[float] | None,
    out_path: str | Path,
) -> Path:
    """Draw one query and its ranked gallery images, Fig. 4 style, to a PNG.

    Args:
        query: the query image (path or PIL image, shown as given: degrade it first to show
            what the model saw). ranked: the gallery images, best first.
        matches: per ranked image, True for a true match (green frame) or False (red
            frame); None when identities are unknown (no frames).
        distances: per ranked image, printed under it; None for no labels.
        out_path: the PNG to write (parent folders are created).

    Returns:
        out_path. The picture's size is :func:`ranking_size`.
    """
    q = _as_image(query)
    gallery = [_as_image(g) for g in ranked]
    width, height = ranking_size(q, gallery)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    bottom = height - PAD - LABEL_HEIGHT

    def place(im: Image.Image, x: int, label: str | None, frame: Colour | None) -> None:
        canvas.paste(im, (x, bottom - im.height))
        if frame is not None:
            draw.rectangle((x - FRAME, bottom - im.height - FRAME, x + im.width + FRAME - 1,
                            bottom + FRAME - 1), outline=frame, width=FRAME)
        if label is not None:
            draw.text((x + im.width / 2, bottom + PAD), label, fill="black", font=font,
                      anchor="mt")

    place(q, PAD, "query", None)
    line_x = PAD + q.width + SEPARATOR // 2
    for y in range(PAD, bottom, sum(DASH)):
        draw.line((line_x, y, line_x, min(y + DASH[0], bottom)), fill=LINE_COLOUR, width=2)
    x = PAD + q.width + SEPARATOR
    for i, im in enumerate(gallery):
        frame = None if matches is None else (MATCH_COLOUR if matches[i] else MISS_COLOUR)
        place(im, x, None if distances is None else f"{distances[i]:.2f}", frame)
        x += im.width + PAD
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out_path)
    return out_path


def draw_protocol_rankings(
    dist: torch.Tensor,
    query: Sequence[ImageRecord],
    gallery: Sequence[ImageRecord],
    interpolation: str,
    out_dir: Path,
    num_queries: int,
    top_k: int = 10,
) -> list[Path]:
    """Ranking pictures of `num_queries` queries spread evenly over the query set.

    dist: [Q, G] distances of `query` x `gallery`. As in the metrics, gallery images of
    the query's person and camera (junk under the Market-1501 rule) are left out.
    Writes `<out_dir>/query_<index>.png`; returns the paths.
    """
    picks = np.unique(np.linspace(0, len(query) - 1, min(num_queries, len(query))).round())
    g_pids = torch.tensor([g.pid for g in gallery])
    g_cams = torch.tensor([g.camid for g in gallery])
    written = []
    for qi in picks.astype(int).tolist():
        rec = query[qi]
        row = dist[qi].masked_fill((g_pids == rec.pid) & (g_cams == rec.camid), float("inf"))
        order = torch.argsort(row, stable=True)[:top_k]
        order = order[torch.isfinite(row[order])].tolist()
        written.append(draw_ranking(
            load_as_seen(rec, interpolation),
            [load_as_seen(gallery[i], interpolation) for i in order],
            [gallery[i].pid == rec.pid for i in order],
            [float(row[i]) for i in order],
            out_dir / f"query_{qi:04d}.png",
        ))
    return written


def plot_split_r1(
    per_split_r1_bf: Sequence[float],
    per_split_r1_rfd: Sequence[float] | None,
    out_path: str | Path,
    title: str | None = None,
) -> Path:
    """Rank-1 (in %) of every split, B-F (orange) and B-F+RFD (blue), as in Fig. 5.

    per_split_r1_rfd may be None (no B-R): only the B-F line is drawn.
    """
    fig = Figure(figsize=(6, 3.5), dpi=100)
    ax = fig.add_subplot()
    splits = np.arange(1, len(per_split_r1_bf) + 1)
    lines = [("B-F", per_split_r1_bf, "tab:orange")]
    if per_split_r1_rfd is not None:
        lines.append(("B-F+RFD", per_split_r1_rfd, "tab:blue"))
    for name, values, colour in lines:
        ax.plot(splits, values, marker="o", color=colour,
                label=f"{name} (mean {np.mean(values):.1f})")
    ax.set_xticks(splits)
    ax.set_xlabel("split")
    ax.set_ylabel("rank-1 (%)")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path)
    return out_path


def plot_verification(methods: dict[str, PairDistances], out_path: str | Path,
                      title: str | None = None) -> Path:
    """ROC of every method (log FPR axis) and, per method, the genuine and impostor
    distance histograms (densities over shared bins), side by side."""
    fig = Figure(figsize=(4.5 * (1 + len(methods)), 3.8), dpi=100)
    axes = fig.subplots(1, 1 + len(methods), squeeze=False)[0]
    for name, pairs in methods.items():
        _, fpr, tpr = roc(pairs)
        keep = np.unique(np.geomspace(1, len(fpr), 2000).astype(int) - 1)  # a drawable few
        axes[0].plot(fpr[keep], tpr[keep], label=name)
    axes[0].set(xscale="log", xlabel="false positive rate", ylabel="true positive rate",
                title=f"ROC, {title}" if title else "ROC")
    axes[0].grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    for ax, (name, pairs) in zip(axes[1:], methods.items()):
        edges, gen, imp = histograms(pairs)
        widths = np.diff(edges)
        for counts, label, colour in ((gen, "genuine", "tab:green"),
                                      (imp, "impostor", "tab:red")):
            ax.stairs(counts / max(counts.sum(), 1) / widths, edges, label=label,
                      color=colour, fill=True, alpha=0.4)
        ax.set(xlabel="distance", ylabel="density", title=name)
        ax.legend(fontsize="small")
    fig.tight_layout()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path)
    return out_path
