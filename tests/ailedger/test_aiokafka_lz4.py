"""aiokafka's record builders compress lz4 at the fast level once installed; any reader decodes it."""

from __future__ import annotations

import lz4.frame
from aiokafka.codec import lz4_decode
from aiokafka.codec import lz4_encode as aiokafka_level_9
from aiokafka.record._crecords.default_records import DefaultRecordBatchBuilder, DefaultRecordBatch

from ailedger import aiokafka_lz4
from ailedger.demo_traffic import generate
from schemas.codec import encode_batch, event_to_dict

CODEC_LZ4 = 3


def _payload() -> bytes:
    return encode_batch([event_to_dict(e) for e in generate(200, seed=1)])


def _lz4_batch(value: bytes) -> bytes:
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=CODEC_LZ4, is_transactional=False,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 22)
    builder.append(0, timestamp=None, key=b"k", value=value, headers=[])
    return bytes(builder.build())


def test_fast_frames_decode_with_every_reader():
    payload = _payload()
    frame = aiokafka_lz4.lz4_encode(payload)
    assert lz4_decode(frame) == payload  # aiokafka (the worker)
    assert lz4.frame.decompress(frame) == payload  # kafka-python (the sinks)
    assert len(frame) > len(aiokafka_level_9(payload))  # the fast mode: a larger frame than level 9


def test_installed_builder_writes_the_fast_frame_and_reads_it_back():
    payload = _payload()
    assert "aiokafka.record._crecords.default_records" in aiokafka_lz4.install()
    batch = _lz4_batch(payload)
    fast_size = len(aiokafka_lz4.lz4_encode(payload))
    assert abs(len(batch) - fast_size) < 200  # the batch's header and record framing around the frame
    records = list(DefaultRecordBatch(bytearray(batch)))
    assert [r.value for r in records] == [payload]
