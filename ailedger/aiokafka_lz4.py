"""aiokafka's lz4 at the fast level (what kafka-python and Kafka's Java producer use).

aiokafka 0.14 compresses every lz4 batch at level 9, LZ4's high-compression mode
(``aiokafka.codec.lz4_encode``; there is no producer option for it). On a costed message of
500 calls that costs ~7 µs per call; the fast mode (level 0, what ``lz4.frame`` and therefore
kafka-python use) costs ~0.7 µs for a frame ~25 % larger. In a worker flood the level-9
compression of costed messages and changelogs was 15.7 % of the worker's CPU (py-spy, 2026-12-05).
Any lz4 decoder reads both: the level only changes how hard the compressor searches.

:func:`install` replaces the encoder that aiokafka's record builders call (the compiled
builder looks the name up in its module at each call). If the modules are not there (another
aiokafka version), nothing is patched and a warning says so: compression still works, slower.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

#: LZ4 compression level: 0 is the fast mode (levels 3-12 are the slow high-compression mode).
LEVEL = 0
_BUILDER_MODULES = (
    "aiokafka.record._crecords.default_records",
    "aiokafka.record._crecords.legacy_records",
    "aiokafka.record.default_records",
    "aiokafka.record.legacy_records",
)


def lz4_encode(payload, level: int = LEVEL) -> bytes:
    """An lz4 frame of ``payload`` as Kafka reads it (independent blocks, no content checksum),
    at ``level`` (the fast mode by default)."""
    import cramjam

    compressor = cramjam.lz4.Compressor(level=level, content_checksum=False, block_linked=False)
    compressor.compress(payload)
    return bytes(compressor.finish())


def install() -> list[str]:
    """Make aiokafka's record builders compress lz4 with :func:`lz4_encode`. Idempotent;
    returns the modules patched."""
    patched = []
    for name in _BUILDER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "lz4_encode"):
            module.lz4_encode = lz4_encode
            patched.append(name)
    if not patched:
        log.warning("aiokafka's record builders not found: lz4 stays at aiokafka's level 9 (slower)")
    return patched
