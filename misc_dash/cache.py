"""A columnar cache of validated cohorts: the typed tables as Parquet, keyed by the source's fingerprint.

Reopening a large cohort then skips CSV parsing and validation. The key is cheap to compute without parsing:
the source's absolute path, the name, size and modification time of every file the loader reads, a hash of
each file's content (of the whole file up to :data:`FULL_HASH_BYTES`, else of :data:`SAMPLES` evenly spaced
blocks including the first and last), and the code version (this module, :mod:`misc_dash.loading`,
:mod:`misc_dash.contract`, pandas and pyarrow). Any change gives a new key; a stale entry is never read.

Location: ``$MISC_DASH_CACHE`` (a folder), default ``$XDG_CACHE_HOME/misc_dash`` or ``~/.cache/misc_dash``;
``MISC_DASH_CACHE=off`` disables it. Sources smaller than :data:`MIN_BYTES` are not cached (reading them is as
fast as reading the cache). Entries are written in a background thread (:func:`write_async`; :func:`flush`
waits for it), atomically (a temporary folder renamed into place), in a folder only its owner can read; the
least recently used are removed beyond :data:`MAX_ENTRIES`. An entry that cannot be read is ignored (the caller
falls back to the source) and removed. Uploads are never cached: they stay in the session's memory.

This module knows tables and a JSON-able metadata dict, not cohorts: :mod:`misc_dash.loading` turns them into
a :class:`~misc_dash.loading.Cohort`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

ENV_DIR = "MISC_DASH_CACHE"
OFF_VALUES = ("off", "0", "false", "no", "none", "")
MIN_BYTES = 8 << 20  # sources smaller than this are read directly (about 2,000 patients of CSV)
MAX_ENTRIES = 8
FULL_HASH_BYTES = 8 << 20
SAMPLES = 16
SAMPLE_BYTES = 64 << 10
SOURCE_SUFFIXES = (".csv", ".parquet", ".json")  # the files of a cohort folder the loader reads
FORMAT = 1  # bump when the entry layout changes

_META = "meta.json"
_log = logging.getLogger("misc_dash")


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off."""
    env = os.environ.get(ENV_DIR)
    if env is not None:
        if env.strip().lower() in OFF_VALUES:
            return None
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "misc_dash"


def enabled() -> bool:
    return cache_dir() is not None


_code_version: str | None = None


def code_version() -> str:
    """A hash of the code that decides what a validated cohort looks like (computed once per process)."""
    global _code_version
    if _code_version is None:
        import pyarrow

        h = hashlib.blake2b(digest_size=16)
        here = Path(__file__).resolve().parent
        for name in ("cache.py", "loading.py", "contract.py"):
            h.update((here / name).read_bytes())
        h.update(f"{FORMAT}|{pd.__version__}|{pyarrow.__version__}".encode())
        _code_version = h.hexdigest()
    return _code_version


def source_files(path: str | Path) -> list[Path]:
    """The files a cohort source consists of: the file itself, or a folder's CSV, Parquet and JSON files."""
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SOURCE_SUFFIXES)
    return []


def _content_digest(f: Path, size: int) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    with open(f, "rb") as fh:
        if size <= FULL_HASH_BYTES:
            h.update(fh.read())
        else:
            step = (size - SAMPLE_BYTES) / (SAMPLES - 1)
            for i in range(SAMPLES):
                fh.seek(int(i * step))
                h.update(fh.read(SAMPLE_BYTES))
    return h.digest()


def stat_key(path: str | Path) -> str:
    """A key that changes when a source's files change (names, sizes, modification times; no reading)."""
    h = hashlib.blake2b(digest_size=16)
    p = Path(path)
    h.update(str(p.resolve() if p.exists() else p).encode())
    for f in source_files(p):
        st = f.stat()
        h.update(f"\x1f{f.name}\x1e{st.st_size}\x1e{st.st_mtime_ns}".encode())
    return h.hexdigest()


def source_key(path: str | Path, min_bytes: int | None = None) -> str | None:
    """The cache key of a cohort folder or file on disk; None if it is not cached (missing, empty or small)."""
    p = Path(path)
    files = source_files(p)
    if not files:
        return None
    sizes = [f.stat().st_size for f in files]
    if sum(sizes) < (MIN_BYTES if min_bytes is None else min_bytes):
        return None
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{code_version()}|{p.resolve()}|{'dir' if p.is_dir() else 'file'}".encode())
    for f, size in zip(files, sizes):
        st = f.stat()
        h.update(f"\x1f{f.name}\x1e{size}\x1e{st.st_mtime_ns}\x1e".encode())
        h.update(_content_digest(f, size))
    return h.hexdigest()


def bytes_key(data: bytes, name: str = "") -> str:
    """The cache key of uploaded bytes (their content hash)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{code_version()}|bytes|{name}|".encode())
    h.update(data)
    return h.hexdigest()


def read(key: str) -> tuple[dict[str, pd.DataFrame], dict] | None:
    """The tables and metadata stored under ``key``, or None (no entry, caching off, or an unreadable entry)."""
    root = cache_dir()
    if root is None or not key:
        return None
    d = root / key
    if not (d / _META).is_file():
        return None
    try:
        import pyarrow.parquet as pq

        meta = json.loads((d / _META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("key") != key:
            raise ValueError("not an entry of this format")
        tables: dict[str, pd.DataFrame] = {}
        for name, spec in meta["tables"].items():
            df = pq.read_table(d / f"{name}.parquet").to_pandas()
            if list(df.columns) != spec["columns"] or [str(t) for t in df.dtypes] != spec["dtypes"]:
                raise ValueError(f"table {name} differs from its description")
            if len(df) != spec["rows"]:
                raise ValueError(f"table {name} has {len(df)} rows, not {spec['rows']}")
            tables[name] = df
        os.utime(d)  # most recently used
        return tables, meta["data"]
    except Exception as exc:  # a corrupt or partial entry: ignore it, remove it, read the source
        _log.warning("cohort cache entry %s unreadable (%s); reading the source", key[:12], type(exc).__name__)
        shutil.rmtree(d, ignore_errors=True)
        return None


def write(key: str, tables: dict[str, pd.DataFrame], data: dict) -> bool:
    """Store the tables and a JSON-able metadata dict under ``key``. Returns whether it was written; a failure
    (read-only disk, full disk) is logged and otherwise ignored."""
    root = cache_dir()
    if root is None or not key:
        return False
    tmp = None
    try:
        import pyarrow.parquet as pq

        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=root))
        spec = {}
        for name, df in tables.items():
            pq.write_table(_to_arrow(df), tmp / f"{name}.parquet")
            spec[name] = {"columns": list(df.columns), "dtypes": [str(t) for t in df.dtypes], "rows": len(df)}
        meta = {"format": FORMAT, "key": key, "written": time.time(), "tables": spec, "data": data}
        (tmp / _META).write_text(json.dumps(meta), encoding="utf-8")
        try:
            os.rename(tmp, root / key)
        except OSError:  # another process wrote the same entry first
            shutil.rmtree(tmp, ignore_errors=True)
        tmp = None
        prune(root)
        return True
    except Exception as exc:
        _log.warning("cohort cache not written (%s)", type(exc).__name__)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return False


def _to_arrow(df: pd.DataFrame, tries: int = 3):
    """A shared (never mutated) frame as a pyarrow table, from a shallow copy with its own column cache: other
    sessions' threads read the same frame meanwhile, and pandas fills a frame's column cache as it is read."""
    import pyarrow as pa

    for attempt in range(tries):
        try:
            # one thread: a command-line run writes while the interpreter shuts down, when no thread pool can start
            return pa.Table.from_pandas(df.copy(deep=False), preserve_index=False, nthreads=1)
        except RuntimeError:  # a cache changed size while it was read: read again
            if attempt == tries - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


_pending: list[threading.Thread] = []
_pending_lock = threading.Lock()


def write_async(key: str, tables: dict[str, pd.DataFrame], data: dict) -> threading.Thread | None:
    """:func:`write` in a background thread (the tables are never mutated, so the caller goes on using them).
    The thread is not a daemon: a command-line run finishes writing before the interpreter exits."""
    if cache_dir() is None or not key:
        return None
    t = threading.Thread(target=write, args=(key, dict(tables), dict(data)), name="misc_dash-cache", daemon=False)
    with _pending_lock:
        _pending[:] = [p for p in _pending if p.is_alive()]
        _pending.append(t)
    t.start()
    return t


def flush(timeout: float | None = None) -> None:
    """Wait until the cache entries being written in the background are written."""
    with _pending_lock:
        pending = list(_pending)
    for t in pending:
        t.join(timeout)


def prune(root: Path | None = None, keep: int = MAX_ENTRIES) -> None:
    """Remove the least recently used entries beyond ``keep`` (and temporary folders older than a day)."""
    root = root or cache_dir()
    if root is None or not root.is_dir():
        return
    entries, now = [], time.time()
    for d in root.iterdir():
        try:
            if not d.is_dir():
                continue
            if d.name.startswith("."):
                if now - d.stat().st_mtime > 86400:
                    shutil.rmtree(d, ignore_errors=True)
                continue
            entries.append((d.stat().st_mtime, d))
        except OSError:
            continue
    for _, d in sorted(entries, reverse=True)[keep:]:
        shutil.rmtree(d, ignore_errors=True)


def clear() -> None:
    """Remove every entry (the folder itself stays)."""
    root = cache_dir()
    if root is not None and root.is_dir():
        for d in root.iterdir():
            if d.is_dir():
                shutil.rmtree(d, ignore_errors=True)
