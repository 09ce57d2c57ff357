"""Small shared helpers: user-facing errors, atomic writes with the user's umask, the cache
folder, devices and thread counts."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Iterable


class TableGraphError(Exception):
    """An error the user caused (bad path, bad file, bad model folder): one clear line."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def apply_umask(path: str | os.PathLike[str], folder: bool = False) -> None:
    """Give `path` the mode a plain open()/mkdir() would (mkstemp and mkdtemp make 0600/0700)."""
    os.chmod(path, (0o777 if folder else 0o666) & ~UMASK)


def cache_root() -> Path:
    """`$TABLEGRAPH_CACHE`, else `~/.cache/tablegraph`; created on first use."""
    root = Path(os.environ.get("TABLEGRAPH_CACHE") or Path.home() / ".cache" / "tablegraph")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TableGraphError(f"cannot use the cache folder {root}: {e.strerror} "
                              f"(set TABLEGRAPH_CACHE to a writable folder)") from e
    return root


@contextlib.contextmanager
def build_once(folder: Path):
    """Build a cache folder that nothing replaces: yields a temporary sibling to fill, renamed
    to `folder` when the block ends without an error (if another process finished the same
    folder first, its folder stays); the temporary one never remains."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        yield tmp
        try:
            os.replace(tmp, folder)
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def writable_file(path: str | os.PathLike[str]) -> Path:
    """`path` where a file can be written (its folders made), checked before any long work:
    a folder there, or a place that takes no file, is a `TableGraphError` naming `path`."""
    path = Path(path)
    if path.is_dir():
        raise TableGraphError(f"{path} is a folder: give a file's path")
    if is_stream(path):
        if not os.access(path, os.W_OK):
            raise TableGraphError(f"cannot write {path}: not writable")
        return path
    above = next((p for p in path.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise TableGraphError(f"cannot write {path}: {above} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TableGraphError(f"cannot write {path}: {e.strerror or e}") from e
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise TableGraphError(f"cannot write {path}: its folder is not writable")
    return path


def is_stream(path: str | os.PathLike[str]) -> bool:
    """`path` is there and is no file nor folder: a pipe, a terminal or a device
    (`/dev/stdout`, the shell's `>(...)`), which is written as it is, never replaced."""
    p = Path(path)
    return p.exists() and not p.is_file() and not p.is_dir()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file. An
    `OSError` names `path` (its `filename`), not the temporary file. A pipe or a device
    (`is_stream`: `/dev/stdout`) is written to directly: a rename would put a file in its
    place."""
    path = Path(path)
    if is_stream(path):
        with open(path, "wb") as f:
            f.write(data)
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.filename != str(path):
            raise type(e)(e.errno, e.strerror, str(path)) from e
        raise


def decode_text(raw: bytes) -> str:
    """A text file's bytes as text: UTF-16 where they start with its byte-order mark (SQL
    Server Management Studio's and Excel's "Unicode"), else UTF-8 (a BOM dropped);
    `UnicodeDecodeError` otherwise."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide characters (CJK, full-width forms) two, combining
    marks none, any other one."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def padded(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns (`display_width`), so that a table
    named `顧客` lines up as `orders` does."""
    return text + " " * max(0, width - display_width(text))


def column_width(texts: Iterable[str], least: int) -> int:
    """The width of a column of `texts`: their widest, and at least `least`."""
    return max([least, *(display_width(t) for t in texts)])


def pick_device(device: str | None = None) -> str:
    """`device` if given and usable, else CUDA when present, else CPU."""
    import torch

    if not device:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device != "cpu" and not (device == "cuda" or device.startswith("cuda:")):
        raise TableGraphError(f"unknown device {device!r}: use cpu or cuda")
    if device != "cpu" and not torch.cuda.is_available():
        raise TableGraphError(f"--device {device}: CUDA is not available here (torch "
                              f"{torch.__version__}): use --device cpu")
    return device


def set_threads(threads: int | None = None) -> int:
    """Set torch's thread counts deliberately: `threads`, else `$TABLEGRAPH_THREADS`, else
    one. Under CPU contention torch's default (one thread per core, spinning) made training
    several times slower than one thread; the graphs here are small enough that more threads
    gain little (docs/usage.md, Threads and precision)."""
    import torch

    n = threads or int(os.environ.get("TABLEGRAPH_THREADS") or 1)
    if n < 1:
        raise TableGraphError("the thread count must be at least 1")
    torch.set_num_threads(n)
    return n


def show_progress(progress: bool) -> bool:
    """Progress bars only when asked for and stderr is a terminal."""
    return progress and sys.stderr.isatty()
