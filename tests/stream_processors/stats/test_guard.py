from stream_processors.stats.guard import Position, decide, mark, parse_source_header


def test_a_message_past_the_applied_offset_is_applied_and_one_at_or_below_is_a_replay():
    applied = mark({}, Position(2, 10))
    assert applied == {"c2": 10}
    assert decide(applied, Position(2, 11)) == "apply"
    assert decide(applied, Position(2, 10)) == "replay"
    assert decide(applied, Position(2, 3)) == "replay"


def test_a_new_costed_message_carrying_an_already_applied_raw_offset_is_an_upstream_duplicate():
    applied = mark({}, Position(0, 5, raw=(3, 100)))
    assert decide(applied, Position(0, 9, raw=(3, 100))) == "duplicate"
    assert decide(applied, Position(0, 9, raw=(3, 101))) == "apply"
    assert decide(applied, Position(0, 9, raw=(1, 7))) == "apply"  # another raw partition
    assert decide(applied, Position(0, 5, raw=(3, 100))) == "replay"


def test_mark_never_moves_backwards():
    applied = mark(mark({}, Position(0, 50, raw=(1, 9))), Position(0, 40, raw=(1, 3)))
    assert applied == {"c0": 50, "r1": 9}


def test_source_header_is_parsed_from_faust_or_kafka_python_headers():
    assert parse_source_header({"ailedger-src": b"3:1207"}) == (3, 1207)
    assert parse_source_header([("x", b"1"), ("ailedger-src", b"0:5")]) == (0, 5)
    assert parse_source_header([("ailedger-src", b"garbage")]) is None
    assert parse_source_header(None) is None
