"""Import cost: faiss loads only for large-gallery search, `import rfdreid` loads no torch."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import rfdreid
light = "torch" in sys.modules
import rfdreid.evaluation, rfdreid.workflows.evaluate, rfdreid.cli.commands
before = "faiss" in sys.modules
import numpy as np
rfdreid.evaluation.GalleryIndex(np.zeros((4, 2), dtype=np.float32))
print(json.dumps([light, before, "faiss" in sys.modules]))
"""


def test_faiss_loads_only_when_a_gallery_index_is_built():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120, check=True)
    torch_on_import, faiss_before_index, faiss_after_index = json.loads(proc.stdout)
    assert not torch_on_import
    assert not faiss_before_index
    assert faiss_after_index
