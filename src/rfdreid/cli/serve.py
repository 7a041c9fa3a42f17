"""`rfdreid serve`: the web viewer of a gallery folder or of an `rfdreid evaluate` output."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app, finite
from rfdreid.cli.renamed import renamed
from rfdreid.errors import ReIDError

LOCAL_HOST = "127.0.0.1"


@app.command(
    epilog="Examples: rfdreid serve --bf runs/x/bf/checkpoint.pt --br "
    "runs/x/br/checkpoint.pt --gallery gallery/;  rfdreid serve --run runs/x/eval"
)
def serve(
    bf: Annotated[Optional[Path], typer.Option(help="B-F checkpoint (with --gallery).")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(hidden=True, help="old name of --bf")] = None,
    br: Annotated[Optional[Path], typer.Option(help="B-R checkpoint: RFD slider, resolution classes.")] = None,
    gallery: Annotated[Optional[Path], typer.Option(help="Folder of gallery images (not recursive).")] = None,
    run: Annotated[Optional[Path], typer.Option(help="An `rfdreid evaluate` output folder to browse.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback exposes your images.")] = LOCAL_HOST,
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
    max_upload_mb: Annotated[float, typer.Option(
        min=0.01, callback=finite, help="Largest query upload.")] = 8.0,
    cache_dir: Annotated[Optional[Path], typer.Option(
        help="Where gallery features are cached (default: GALLERY/.rfdreid-cache).")] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    results: Annotated[Optional[Path], typer.Option(
        help="results.json of `rfdreid evaluate --verification` (with --gallery): offers "
        "its thresholds at a false positive rate in the page. --run uses its own.")] = None,
) -> None:
    """Browse rankings in a web page: search a gallery, move RFD's λ, inspect an evaluation.

    Serves only files inside GALLERY or RUN, on 127.0.0.1 unless --host says otherwise.
    """
    try:
        import uvicorn

        from rfdreid.serve.app import create_app
    except ImportError as e:
        raise ReIDError(f"rfdreid serve needs its extra packages ({e.name} is missing); "
                        "pip install 'rfdreid[serve]'") from None
    from rfdreid.api import ReIDModel
    from rfdreid.serve.gallery_search import GallerySearch
    from rfdreid.serve.run_browser import RunBrowser

    checkpoint = renamed(bf, checkpoint, "--bf", "--checkpoint")
    if run is not None and (gallery or checkpoint):
        raise ReIDError("give --run FOLDER, or --bf with --gallery, not both")
    if run is None and (checkpoint is None or gallery is None):
        raise ReIDError("give --bf BF.pt --gallery FOLDER (and --br BR.pt), or --run FOLDER")
    if results is not None and run is not None:
        raise ReIDError("--results goes with --gallery; --run takes its thresholds from the "
                        "run's own results.json")
    if results is not None and not results.is_file():
        raise ReIDError(f"--results {results} is not a file; pass the results.json of "
                        "`rfdreid evaluate --verification`")
    check_bindable(host, port)
    cap = int(max_upload_mb * 2**20)
    if checkpoint is not None and gallery is not None:
        model = ReIDModel.from_checkpoint(checkpoint, br, device=device)
        web = create_app(search=GallerySearch(model, gallery, cache_dir, results=results),
                         max_upload_bytes=cap)
    else:
        web = create_app(run=RunBrowser(run, device), max_upload_bytes=cap)  # type: ignore[arg-type]
    if not _is_loopback(host):
        typer.echo(f"warning: serving on {host}: anyone who reaches this address sees the images",
                   err=True)
    typer.echo(f"rfdreid viewer on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(web, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_bindable(host: str, port: int) -> None:
    """Bind (host, port) once and let go; a one-line ReIDError when that fails.

    Why before anything else: embedding a gallery takes minutes, and uvicorn would find a
    port in use or an address this machine does not have only afterwards (exit 3).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as e:
        raise ReIDError(f"--host {host} is no address of this machine ({e}); use 127.0.0.1, "
                        "0.0.0.0 or one of its addresses") from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ReIDError(f"--port {port} on {host} is in use; choose another --port or "
                                "stop what holds it") from None
            raise ReIDError(f"cannot serve on {host}:{port} ({e.strerror or e}); use --host "
                            "127.0.0.1 or an address of this machine") from None
