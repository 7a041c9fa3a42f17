"""The Starlette app: pages, the ranking fragment that the λ slider re-fetches (and the
same ranking as JSON), and files.

Why server-rendered fragments: the ranking is drawn by one Jinja template whatever asks for
it (a gallery search or a query of an evaluation), and the page needs only a few lines of
plain JavaScript (static/viewer.js), no build step.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import nullcontext
from io import BytesIO
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rfdreid.evaluation.methods import Method
from rfdreid.errors import ReIDError, finite_number
from rfdreid.evaluation.distance import (
    DEFAULT_LAMBDA,
    DEFAULT_RFD_FORM,
    RFD_FORMS,
    check_rfd_lambda,
)
from rfdreid.evaluation.rerank import RerankParams
from rfdreid.evaluation.verification import FPR_TARGETS
from rfdreid.serve.gallery_search import GallerySearch
from rfdreid.serve.ranking import QueryRows, rank
from rfdreid.serve.run_browser import SORT_KEYS, RunBrowser
from rfdreid.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES, UploadTooLarge, decode_upload

MAX_TOP_K = 100
_CHOOSABLE = 500  # gallery files offered as queries in the page's list
_MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around the uploaded file
_KEPT_ROWS = 32  # queries whose distance rows are kept for the slider

_templates = Environment(loader=PackageLoader("rfdreid.serve", "templates"), autoescape=True)


def _page(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(template).render(**context), status_code)


def _not_found() -> HTTPException:
    return HTTPException(404, "not found")


def _float(request: Request, name: str, default: float,
           check: Callable[[float, str], float] = finite_number) -> float:
    """Query parameter `name` as a number passing `check`; HTTP 400 saying why otherwise
    (a NaN `k` or `lam` is the client's mistake, not a server error)."""
    try:
        return check(float(request.query_params.get(name, default)), name)
    except ValueError:
        raise HTTPException(400, f"{name} must be a number") from None
    except ReIDError as e:
        raise HTTPException(400, str(e)) from None


def _distance_limit(value: float, name: str) -> float:
    """A match threshold: finite and >= 0."""
    if finite_number(value, name) < 0:
        raise ReIDError(f"{name}={value:g} is invalid; it must be >= 0")
    return value


def _switch(request: Request, name: str) -> bool:
    """An on/off query parameter: absent or 0 is off, 1 is on, anything else HTTP 400."""
    value = request.query_params.get(name, "0")
    if value not in ("0", "1"):
        raise HTTPException(400, f"{name} must be 0 or 1")
    return value == "1"


class _Viewer:
    """The route handlers and the state they share: what is served, the page's default
    controls, the distance rows kept for the slider and the re-ranking lock."""

    def __init__(self, search: GallerySearch | None, run: RunBrowser | None,
                 max_upload_bytes: int) -> None:
        self.search, self.run, self.max_upload_bytes = search, run, max_upload_bytes
        self.source = search or run
        self.lam = run.ecfg.rfd_lambda if run else DEFAULT_LAMBDA
        self.form = run.ecfg.rfd_form if run else DEFAULT_RFD_FORM
        self.controls = {"lam": self.lam, "form": self.form, "forms": RFD_FORMS, "top_k": 10,
                         "fprs": FPR_TARGETS if self.source.has_thresholds else ()}  # type: ignore[union-attr]
        self.rows_of: OrderedDict[str, QueryRows] = OrderedDict()
        # one re-ranking at a time: each holds a (1 + G)² matrix, and a slider drag sends dozens
        self.rerank_lock = threading.Lock()

    def _resolve(self, query_id: str):  # noqa: ANN202 - the resolver's own tuple
        try:
            return self.source.resolve(query_id)  # type: ignore[union-attr]
        except (KeyError, ValueError):
            raise _not_found() from None

    def _threshold(self, request: Request, query_id: str, method: Method
                   ) -> tuple[float | None, float | None]:
        """(max distance, the FPR it was measured at): `max_distance` as given, or the one
        the evaluation measured at `at_fpr` for this ranking's method."""
        given = [n for n in ("max_distance", "at_fpr") if n in request.query_params]
        if len(given) == 2:
            raise HTTPException(400, "give max_distance or at_fpr, not both")
        if given == ["max_distance"]:
            return _float(request, "max_distance", 0.0, _distance_limit), None
        if given == ["at_fpr"]:
            fpr = _float(request, "at_fpr", 0.0)
            try:
                return self.source.threshold_at(query_id, method, fpr), fpr  # type: ignore[union-attr]
            except ReIDError as e:
                raise HTTPException(400, str(e)) from None
        return None, None

    def index(self, request: Request) -> Response:
        search = self.search
        if search is not None:
            names = [p.name for p in search.paths[:_CHOOSABLE]]
            return _page("search.html", names=names, has_rfd=search.gallery.has_rfd,
                         folder=search.folder.name, size=len(search.paths),
                         max_upload_mb=self.max_upload_bytes / 2**20, **self.controls)
        return _page("run.html", run=self.run, name=self.run.run_dir.name)  # type: ignore[union-attr]

    def _ranked(self, request: Request) -> dict[str, Any]:
        """The ranking the query parameters ask for, as the template's context."""
        query_id = request.query_params.get("query", "")
        query, gallery, exclude = self._resolve(query_id)
        lam_now = _float(request, "lam", self.lam, check_rfd_lambda)
        form_now = request.query_params.get("form", self.form)
        if form_now not in RFD_FORMS:
            raise HTTPException(400, f"form must be one of {', '.join(RFD_FORMS)}")
        top_k = int(min(max(_float(request, "k", 10), 1), MAX_TOP_K))
        rerank = _switch(request, "rerank")
        rfd = gallery.has_rfd
        method = Method(form_now if rfd else None, lam_now if rfd else 0.0, rerank=rerank)
        max_distance, at_fpr = self._threshold(request, query_id, method)
        if query_id not in self.rows_of:
            self.rows_of[query_id] = QueryRows.compute(query.features, gallery.features, exclude)
            if len(self.rows_of) > _KEPT_ROWS:
                self.rows_of.popitem(last=False)
        with self.rerank_lock if rerank else nullcontext():
            try:
                hits = rank(query, gallery, self.rows_of[query_id], lam_now, form_now, top_k,
                            RerankParams() if rerank else None, max_distance)
            except ReIDError as e:  # a gallery too large (or too small) to re-rank
                raise HTTPException(400, str(e)) from None
        return {"query_id": query_id, "query": query, "hits": hits, "lam": lam_now,
                "form": form_now, "has_rfd": rfd, "method": method.label, "rerank": rerank,
                "max_distance": max_distance, "at_fpr": at_fpr}

    def ranking(self, request: Request) -> Response:
        return _page("ranking.html", **self._ranked(request))

    def ranking_json(self, request: Request) -> Response:
        r = self._ranked(request)
        return JSONResponse({
            **{k: r[k] for k in ("lam", "form", "method", "rerank", "max_distance", "at_fpr")},
            "query": r["query_id"],
            "hits": [{"rank": h.rank, "name": h.tile.name, "distance": h.distance,
                      "match": h.match, "moved": h.moved, "within": h.within}
                     for h in r["hits"]]})

    async def upload(self, request: Request) -> Response:
        search, max_upload_bytes = self.search, self.max_upload_bytes
        if search is None:
            raise _not_found()
        length = request.headers.get("content-length", "")
        if not length.isdigit():  # a chunked body could not be capped before it is read
            return JSONResponse({"error": "send the upload with a Content-Length"}, 411)
        if int(length) > max_upload_bytes + _MULTIPART_SLACK:
            return JSONResponse({"error": f"uploads are capped at {max_upload_bytes} bytes"}, 413)
        async with request.form(max_files=1, max_part_size=max_upload_bytes + 1) as form_data:
            file = form_data.get("image")
            if file is None or isinstance(file, str):
                return JSONResponse({"error": "send the image as the form field 'image'"}, 400)
            data, filename = await file.read(), Path(file.filename or "upload").name
        try:
            image = decode_upload(data, filename, max_upload_bytes)
        except UploadTooLarge as e:
            return JSONResponse({"error": str(e)}, 413)
        except ReIDError as e:
            return JSONResponse({"error": str(e)}, 400)
        return JSONResponse({"query": await run_in_threadpool(search.add_upload, image,
                                                               filename)})

    def uploaded(self, request: Request) -> Response:
        try:
            return Response(self.search.uploads.png(request.path_params["token"]),  # type: ignore[union-attr]
                            media_type="image/png")
        except (KeyError, AttributeError):
            raise _not_found() from None

    def gallery_image(self, request: Request) -> Response:
        path = self.search.image_file(request.path_params["name"]) if self.search else None
        if path is None:
            raise _not_found()
        return FileResponse(path)

    def run_file(self, request: Request) -> Response:
        path = self.run.file(request.path_params["name"]) if self.run else None
        if path is None:
            raise _not_found()
        return FileResponse(path)

    def _view(self, request: Request):  # noqa: ANN202 - a SplitGallery
        try:
            return self.run.view(request.path_params["split"], request.path_params["mode"])  # type: ignore[union-attr]
        except (KeyError, AttributeError):
            raise _not_found() from None

    def run_image(self, request: Request) -> Response:
        view, side, i = self._view(request), request.path_params["side"], request.path_params["i"]
        if side not in ("q", "g") or not 0 <= i < len(view.queries if side == "q" else
                                                      view.records):
            raise _not_found()
        buf = BytesIO()
        view.image(side, i).save(buf, format="PNG")
        return Response(buf.getvalue(), media_type="image/png")

    def queries(self, request: Request) -> Response:
        view, key = self._view(request), request.query_params.get("sort", "first_bf")
        if key not in SORT_KEYS:
            raise HTTPException(400, f"sort must be one of {', '.join(SORT_KEYS)}")
        return _page("queries.html", view=view, rows=view.sorted_stats(key), sort=key,
                     has_rfd=view.gallery.has_rfd, lam=self.lam, form=self.form)

    def run_query(self, request: Request) -> Response:
        view, qi = self._view(request), request.path_params["qi"]
        if not 0 <= qi < len(view.queries):
            raise _not_found()
        return _page("run_query.html", view=view, stats=view.stats[qi],
                     query_id=f"run:{view.split}:{view.mode}:{qi}",
                     has_rfd=view.gallery.has_rfd, **self.controls)


def create_app(search: GallerySearch | None = None, run: RunBrowser | None = None,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> Starlette:
    """The viewer of a gallery (`search`) or of an evaluation (`run`): exactly one of them."""
    if (search is None) == (run is None):
        raise ReIDError("serve a gallery or an evaluation run, not both or neither")
    viewer = _Viewer(search, run, max_upload_bytes)
    return Starlette(routes=[
        Route("/", viewer.index),
        Route("/ranking", viewer.ranking),
        Route("/ranking.json", viewer.ranking_json),
        Route("/query", viewer.upload, methods=["POST"]),
        Route("/upload/{token}", viewer.uploaded),
        Route("/image/{name:path}", viewer.gallery_image),
        Route("/run-file/{name:path}", viewer.run_file),
        Route("/run-image/{split:int}/{mode}/{side}/{i:int}", viewer.run_image),
        Route("/queries/{split:int}/{mode}", viewer.queries),
        Route("/queries/{split:int}/{mode}/{qi:int}", viewer.run_query),
        Mount("/static", StaticFiles(packages=[("rfdreid.serve", "static")]), name="static"),
    ])
