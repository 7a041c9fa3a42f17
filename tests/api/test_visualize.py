"""Fig. 4 ranking pictures (layout, frames) and the Fig. 5 per-split rank-1 plot."""

from __future__ import annotations

from PIL import Image

from rfdreid.config import EvalConfig
from rfdreid.workflows.evaluate import RunPair, evaluate_runs
from rfdreid.evaluation.visualize import (
    FRAME,
    LABEL_HEIGHT,
    MATCH_COLOUR,
    MISS_COLOUR,
    PAD,
    SEPARATOR,
    draw_ranking,
)


def test_ranking_layout_real_sizes_bottom_aligned_frames(tmp_path):
    query = Image.new("RGB", (20, 50), (0, 0, 255))
    ranked = [Image.new("RGB", size, (128, 128, 128)) for size in ((30, 60), (10, 25), (16, 40))]
    out = draw_ranking(query, ranked, [False, True, False], [0.1, 0.2, 0.3], tmp_path / "r.png")
    with Image.open(out) as pic:
        pic = pic.convert("RGB")
        assert pic.size == (PAD + 20 + SEPARATOR + 30 + 10 + 16 + 3 * PAD,
                            PAD + 60 + PAD + LABEL_HEIGHT)
        bottom = PAD + 60  # every image ends on this row
        x1 = PAD + 20 + SEPARATOR
        x2 = x1 + 30 + PAD
        assert pic.getpixel((PAD + 5, bottom - 1)) == (0, 0, 255)  # query, bottom-aligned
        assert pic.getpixel((PAD + 5, bottom - 51)) == (255, 255, 255)  # above the query
        assert pic.getpixel((x2 + 5, bottom - 1)) == (128, 128, 128)  # not resized
        assert pic.getpixel((x2 - FRAME, bottom - 10)) == MATCH_COLOUR
        assert pic.getpixel((x1 - FRAME, bottom - 10)) == MISS_COLOUR
    plain = draw_ranking(query, ranked, None, None, tmp_path / "plain.png")
    with Image.open(plain) as pic:
        assert pic.convert("RGB").getpixel((x2 - FRAME, bottom - 10)) == (255, 255, 255)


def test_evaluate_visualize_writes_k_pictures(cli, trained, tmp_path):
    out = tmp_path / "eval"
    res = cli("evaluate", "--bf", trained.bf, "--br", trained.br, "--out", out,
              "--visualize", 2)
    assert res.code == 0, res.err
    for gallery in ("single", "multi"):
        pictures = sorted((out / "rankings" / "split_00" / gallery).glob("query_*.png"))
        assert len(pictures) == 2
    assert not list(out.glob("r1_per_split_*.png"))  # one split: no Fig. 5


def test_two_splits_plot_rank1_per_split(trained, tmp_path):
    pair = RunPair(bf=trained.bf, br=trained.br)
    evaluate_runs([pair, pair], EvalConfig(), out_dir=tmp_path, progress=False)
    for gallery in ("single", "multi"):
        with Image.open(tmp_path / f"r1_per_split_{gallery}.png") as plot:
            assert plot.format == "PNG" and plot.width > 100
