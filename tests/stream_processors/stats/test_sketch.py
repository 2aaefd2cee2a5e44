import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_processors.stats.sketch import (EMPTY, MAX_BINS, MIN_VALUE, RELATIVE_ACCURACY, DDSketch, _add_bins,
                                             _merge_bins, bin_index, merge_all)

latencies = st.lists(st.floats(min_value=0.0, max_value=86_400_000.0, allow_nan=False), min_size=1, max_size=400)
quantiles = st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0])


def exact(values, q):
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@settings(max_examples=200, deadline=None)
@given(latencies, quantiles)
def test_quantile_is_within_one_percent_of_the_exact_value_of_its_rank(values, q):
    sketch = EMPTY.add(values)
    want = exact(values, q)
    got = sketch.quantile(q)
    assert abs(got - want) <= RELATIVE_ACCURACY * want + 1e-9


@settings(max_examples=100, deadline=None)
@given(latencies, latencies, quantiles)
def test_merge_answers_as_one_sketch_of_all_values(a, b, q):
    merged = EMPTY.add(a).merge(EMPTY.add(b))
    whole = EMPTY.add(a + b)
    assert (merged.offset, merged.counts, merged.zero, merged.count) == (whole.offset, whole.counts, whole.zero,
                                                                         whole.count)
    assert merged.sum == pytest.approx(whole.sum)
    assert abs(merged.quantile(q) - exact(a + b, q)) <= RELATIVE_ACCURACY * exact(a + b, q) + 1e-9


@settings(max_examples=100, deadline=None)
@given(latencies)
def test_wire_form_round_trips_and_keeps_count_sum_min_max(values):
    sketch = EMPTY.add(values)
    back = DDSketch.from_wire(sketch.to_wire())
    assert back == sketch
    assert (back.count, back.min, back.max) == (len(values), min(values), max(values))
    assert back.sum == pytest.approx(sum(values))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(st.floats(min_value=1e-6, max_value=86_400_000.0), min_size=1, max_size=300),
                 st.lists(st.floats(min_value=-5.0, max_value=1e4, allow_nan=False), min_size=1, max_size=300)))
def test_add_puts_each_value_in_the_bin_of_bin_index(values):
    """Every value above the zero bin's limit (the usual latencies: binned in bulk) or not."""
    sketch = EMPTY.add(values)
    clamped = [max(v, 0.0) for v in values]
    expected: dict[int, int] = {}
    for v in clamped:
        if v > MIN_VALUE:
            expected[bin_index(v)] = expected.get(bin_index(v), 0) + 1
    assert {sketch.offset + i: n for i, n in enumerate(sketch.counts) if n} == expected
    assert sketch.zero == sum(v <= MIN_VALUE for v in clamped) and sketch.count == len(values)
    assert (sketch.min, sketch.max, sketch.sum) == (min(clamped), max(clamped), sum(clamped))


def test_empty_sketch_has_no_quantile_and_an_empty_wire_form():
    assert EMPTY.quantile(0.95) is None and EMPTY.mean is None
    assert EMPTY.to_wire() == [] and DDSketch.from_wire([]) == EMPTY
    assert merge_all([]) == EMPTY


def test_zero_latencies_have_their_own_bin():
    sketch = EMPTY.add([0.0, 0.0, 0.0, 100.0])
    assert sketch.zero == 3 and sketch.quantile(0.5) == 0.0
    assert sketch.quantile(1.0) == pytest.approx(100.0, rel=RELATIVE_ACCURACY)


def test_add_returns_a_new_sketch_and_leaves_the_old_one():
    one = EMPTY.add([10.0])
    two = one.add([20.0])
    assert one.count == 1 and two.count == 2


def test_a_wire_form_whose_counts_do_not_add_up_is_refused():
    wire = EMPTY.add([5.0, 7.0]).to_wire()
    wire[0] = 3
    with pytest.raises(ValueError):
        DDSketch.from_wire(wire)


def test_bins_stay_bounded_and_the_top_quantiles_stay_exact():
    values = [10.0 ** (k / 100) for k in range(-900, 800)]  # 1e-9 .. 1e8: wider than MAX_BINS at 1 %
    sketch = EMPTY.add(values)
    assert len(sketch.counts) <= MAX_BINS
    assert sketch.quantile(0.99) == pytest.approx(exact(values, 0.99), rel=RELATIVE_ACCURACY)


def test_quantile_outside_zero_one_is_an_error():
    with pytest.raises(ValueError):
        EMPTY.add([1.0]).quantile(1.5)


bins = st.tuples(st.integers(-40, 40), st.lists(st.integers(0, 5), max_size=60))  # ranges apart, overlapping, nested


@settings(max_examples=400, deadline=None)
@given(bins, bins, st.booleans())
def test_merging_bins_list_to_list_equals_adding_the_other_sketchs_nonzero_bins(a, b, wide):
    (offset, counts), (other_offset, other_counts) = a, b
    if wide:  # past MAX_BINS: the lowest bins fold
        other_offset += MAX_BINS - 10
    counts, other_counts = tuple(counts), tuple(other_counts)
    added = {other_offset + i: n for i, n in enumerate(other_counts) if n}
    assert _merge_bins(offset, counts, other_offset, other_counts) == _add_bins(offset, counts, added)
