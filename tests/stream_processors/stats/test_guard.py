from stream_processors.stats.guard import (Position, counted_before, cut_sources, decide, describe_segments,
                                          fresh_indices, mark, parse_source_header, source_header)


def test_a_message_past_the_applied_offset_is_applied_and_one_at_or_below_is_a_replay():
    applied = mark({}, Position(2, 10))
    assert applied == {"c2": 10}
    assert decide(applied, Position(2, 11)) == "apply"
    assert decide(applied, Position(2, 10)) == "replay"
    assert decide(applied, Position(2, 3)) == "replay"


def raw(*pairs):
    """Segments of the older header form: every call from one raw message."""
    return tuple((p, o, -1) for p, o in pairs)


def test_a_new_costed_message_carrying_an_already_applied_raw_offset_is_an_upstream_duplicate():
    applied = mark({}, Position(0, 5, raw=raw((3, 100))))
    assert decide(applied, Position(0, 9, raw=raw((3, 100)))) == "duplicate"
    assert decide(applied, Position(0, 9, raw=raw((3, 101)))) == "apply"
    assert decide(applied, Position(0, 9, raw=raw((1, 7)))) == "apply"  # another raw partition
    assert decide(applied, Position(0, 5, raw=raw((3, 100)))) == "replay"


def test_a_regrouped_pricing_replay_keeps_only_the_calls_from_raw_messages_not_counted_yet():
    applied = mark({}, Position(0, 5, raw=((3, 100, 2), (1, 40, 1))))
    replay = Position(0, 6, raw=((3, 100, 2), (3, 101, 1), (1, 40, 1), (1, 41, 2)))
    assert decide(applied, replay) == "apply"
    assert fresh_indices(applied, replay, 6) == [2, 4, 5]  # calls c, e and f of a to f
    assert fresh_indices(applied, Position(0, 7), 6) is None  # no header: the costed guard only, all calls
    assert fresh_indices(applied, Position(0, 7, raw=((3, 99, 1),)), 6) is None  # does not cover the calls
    assert fresh_indices(applied, Position(0, 7, raw=((3, 101, 6),)), 6) is None  # all of them
    assert fresh_indices(applied, Position(0, 7, raw=((3, 101, 2), (1, 41, 4))), 6) is None


def test_a_header_overrunning_the_calls_keeps_what_is_there():
    # 9 calls claimed, then "the rest" (-1) of 6: the first segment keeps the six, the second none
    overrun = Position(0, 1, raw=((3, 7, 9), (3, 8, -1)))
    assert fresh_indices({}, overrun, 6) is None
    assert fresh_indices({"r3": 7}, overrun, 6) == []  # the first segment counted before: the rest is none


def test_the_segments_counted_before_are_those_at_or_below_their_partitions_mark():
    applied = mark({}, Position(0, 5, raw=((3, 100, 2), (1, 40, 1))))
    replay = Position(0, 6, raw=((3, 99, 4), (3, 101, 1), (1, 40, 1), (2, 0, 2)))
    assert counted_before(applied, replay) == [(3, 99, 4), (1, 40, 1)]
    assert counted_before(applied, Position(0, 7)) == []


def test_skipped_segments_are_described_by_partition_with_offset_ranges():
    segments = [(0, 12, 200), (0, 13, 5), (0, 20, 3), (3, 7, 25), (1, 4, -1)]
    assert describe_segments(segments) == "0:12-20 (3 messages) (208 calls), 1:4, 3:7 (25 calls)"
    assert describe_segments([(2, 5, 1), (2, 6, 1)]) == "2:5-6 (2 calls)"
    assert describe_segments([(p, 0, 1) for p in range(9)], limit=2) == "0:0 (1 calls), 1:0 (1 calls)"


def test_mark_never_moves_backwards():
    applied = mark(mark({}, Position(0, 50, raw=raw((1, 9)))), Position(0, 40, raw=raw((1, 3), (2, 4))))
    assert applied == {"c0": 50, "r1": 9, "r2": 4}


def test_source_header_is_parsed_from_faust_or_kafka_python_headers():
    assert parse_source_header({"ailedger-src": b"3:1207"}) == ((3, 1207, -1),)
    assert parse_source_header([("x", b"1"), ("ailedger-src", source_header([[0, 5, 200], [1, 9, 3]]))]) == \
        ((0, 5, 200), (1, 9, 3))
    assert parse_source_header([("ailedger-src", b"garbage")]) is None
    assert parse_source_header([("ailedger-src", b"1:2:3:4")]) is None
    assert parse_source_header(None) is None


def test_a_raw_message_a_pricing_run_read_twice_is_counted_once():
    twice = Position(0, 1, raw=((3, 7, 2), (1, 4, 1), (3, 7, 2)))  # seek back while the run was buffered
    assert fresh_indices({}, twice, 5) == [0, 1, 2]  # a, b, c of a, b, c, a, b


def test_sources_are_cut_where_the_calls_are_cut_into_costed_messages():
    segments = [[0, 10, 300], [1, 5, 250], [0, 11, 450]]
    chunks = cut_sources(segments, [500, 500])
    assert chunks == [[[0, 10, 300], [1, 5, 200]], [[1, 5, 50], [0, 11, 450]]]
    assert [sum(n for *_, n in c) for c in cut_sources([[0, 1, 1001]], [500, 500, 1])] == [500, 500, 1]
    # sizes of a cut by bytes: any sizes, in order
    assert cut_sources(segments, [100, 600, 300]) == [[[0, 10, 100]], [[0, 10, 200], [1, 5, 250], [0, 11, 150]],
                                                      [[0, 11, 300]]]
