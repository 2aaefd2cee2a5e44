"""Which replayed raw messages may name their raw position to the live statistics."""

from stream_processors.replay import _SourceNames


def test_positions_the_live_pricing_committed_are_always_named():
    names = _SourceNames(committed={0: 10}, scan_from={0: 5})
    assert names.named(0, 5, whole=False)  # counted live already: naming it hides nothing
    assert names.named(0, 9, whole=True)


def test_past_the_committed_offset_naming_stops_at_the_first_message_not_replayed_whole():
    names = _SourceNames(committed={0: 10, 1: 0}, scan_from={0: 5, 1: 0})
    assert names.named(0, 10, whole=True)
    assert names.named(0, 11, whole=True)
    assert not names.named(0, 12, whole=False)  # partly in the range
    assert not names.named(0, 13, whole=True)  # would hide message 12's other calls
    assert names.named(1, 0, whole=True)  # partitions are independent


def test_a_scan_that_starts_past_the_committed_offset_names_nothing_past_it():
    names = _SourceNames(committed={0: 3}, scan_from={0: 8})  # 3..7 not priced live, not replayed
    assert not names.named(0, 8, whole=True)
    assert not names.named(0, 9, whole=True)


def test_a_partition_the_group_never_committed_counts_from_offset_zero():
    assert _SourceNames(committed={}, scan_from={0: 0}).named(0, 0, whole=True)
    assert not _SourceNames(committed={}, scan_from={0: 4}).named(0, 4, whole=True)
