"""Evaluation: re-id metrics, distances with the RFD fusion, and large-gallery search.

Where things live:

* ``metrics.py``  - CMC / mAP / mINP under the Market-1501 rule (:func:`evaluate_rank`).
* ``distance.py`` - D_f (Euclidean), D_r (eq. 7), the RFD fusion D_f - lam * D_r (eq. 8) and
  the chunked feature evaluator :func:`evaluate_features`.
* ``rerank.py``   - k-reciprocal re-ranking (Zhong et al. 2017) after the RFD fusion
  (:func:`rerank_features`), on the pooled (query + gallery)² distance.
* ``verification.py`` - genuine / impostor pair distances, ROC, TPR at a target FPR with
  its match threshold, per LR->HR / HR->HR pair group (``rfdreid evaluate --verification``).
* ``index.py``    - faiss gallery index and RFD re-ranking of a shortlist (:func:`search_rfd`);
  faiss itself loads when the first :class:`GalleryIndex` is built, not on import.
"""

from rfdreid.evaluation.distance import cosine_similarity, euclidean_distance, evaluate_features, rfd_distance
from rfdreid.evaluation.index import GalleryIndex, recall_at_k, search_rfd
from rfdreid.evaluation.metrics import RankResult, evaluate_rank, rank_result

__all__ = [
    "GalleryIndex",
    "RankResult",
    "cosine_similarity",
    "euclidean_distance",
    "evaluate_features",
    "evaluate_rank",
    "rank_result",
    "recall_at_k",
    "rfd_distance",
    "search_rfd",
]
