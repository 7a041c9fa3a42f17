"""The protocol file round-trips, including per-gallery queries, and resumes key on train."""

from dataclasses import replace

from rfdreid.data.records import ImageRecord, Protocol


def _protocol(**kw) -> Protocol:
    a, b, c = (ImageRecord(f"/x/{i}.jpg", i, i % 2, 1 + i % 4, i % 4) for i in range(3))
    return Protocol(dataset="t", interpolation="bicubic", seed=0, num_res_classes=4,
                    train=[a], query=[b], galleries={"single": [c], "multi": [b]},
                    gallery_queries={"multi": [c]}, **kw)


def test_round_trip(tmp_path):
    p = _protocol(split=3, meta={"k": 1})
    p.save(tmp_path / "p.json")
    q = Protocol.load(tmp_path / "p.json")
    assert q == p and q.fingerprint() == p.fingerprint()
    assert list(q.subsets()) == ["train", "query", "gallery_single", "query_multi",
                                 "gallery_multi"]


def test_train_fingerprint_ignores_test_side():
    p = _protocol()
    other_gallery = replace(p, galleries={"single": p.query})
    assert other_gallery.train_fingerprint() == p.train_fingerprint()
    assert other_gallery.fingerprint() != p.fingerprint()
    assert replace(p, train=p.query).train_fingerprint() != p.train_fingerprint()
