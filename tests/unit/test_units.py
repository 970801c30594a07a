"""Memory sizes and ISO-8601 durations (torc_client.core.units)."""

import math

import pytest

from torc_client.core.units import (
    format_duration,
    format_memory,
    parse_duration,
    parse_memory,
)

GIB = 1024**3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1024", 1024),
        ("0", 0),
        ("1k", 1024),
        ("512m", 512 * 1024**2),
        ("16g", 16 * GIB),
        ("2t", 2 * 1024**4),
        ("16G", 16 * GIB),
        ("512M", 512 * 1024**2),
        ("1gb", GIB),
        ("1GB", GIB),
        ("4 g", 4 * GIB),
        (" 8g ", 8 * GIB),
        ("100b", 100),
        (17179869184, 16 * GIB),
    ],
)
def test_parse_memory_accepts_torc_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["1.5g", "0.5G", "2.25m", ",5g"])
def test_parse_memory_rejects_fractions_with_examples(text):
    with pytest.raises(ValueError) as caught:
        parse_memory(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "fraction" in message
    assert "512m" in message and "16g" in message


@pytest.mark.parametrize("text", ["", "g", "lots", "16x", "1KiB", "-1g", "16 gigabytes", "1e9"])
def test_parse_memory_rejects_garbage_naming_the_value(text):
    with pytest.raises(ValueError) as caught:
        parse_memory(text)
    assert repr(text) in str(caught.value)
    assert "16g" in str(caught.value)


@pytest.mark.parametrize("value", [-1, True, 1.5, None])
def test_parse_memory_rejects_non_strings_that_are_not_byte_counts(value):
    with pytest.raises(ValueError, match="invalid memory"):
        parse_memory(value)


@pytest.mark.parametrize(
    ("num_bytes", "expected"),
    [
        (17179869184, "16g"),
        (GIB, "1g"),
        (1536 * 1024**2, "1536m"),
        (1024**4, "1t"),
        (1024, "1k"),
        (1000, "1000"),
        (1536, "1536"),
        (0, "0"),
    ],
)
def test_format_memory_uses_largest_exact_unit(num_bytes, expected):
    assert format_memory(num_bytes) == expected


@pytest.mark.parametrize("text", ["1m", "16g", "1536m", "3t", "12345"])
def test_format_memory_round_trips_through_parse(text):
    assert format_memory(parse_memory(text)) == text


def test_format_memory_rejects_negative_sizes():
    with pytest.raises(ValueError, match="-5"):
        format_memory(-5)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT30M", 1800.0),
        ("PT2H", 7200.0),
        ("P1D", 86400.0),
        ("P1DT12H", 129600.0),
        ("P0DT1M", 60.0),
        ("PT1.5H", 5400.0),
        ("PT90S", 90.0),
        ("PT0.5S", 0.5),
        ("PT1,5H", 5400.0),
        ("P2W", 14 * 86400.0),
        ("P1Y", 365.25 * 86400),
        ("P1M", 30 * 86400.0),
        ("P1Y2M3DT4H5M6S", 365.25 * 86400 + 60 * 86400 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6),
        ("pt5m", 300.0),
        (" PT1H ", 3600.0),
    ],
)
def test_parse_duration_reads_iso8601(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_returns_float():
    assert isinstance(parse_duration("PT1H"), float)


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "1h", "PT1H30", "-PT1H", "PTXH", "P1H", "T1H", "PT1M1H"])
def test_parse_duration_rejects_garbage_naming_the_value(text):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)
    assert "PT30M" in str(caught.value)


def test_parse_duration_rejects_numbers():
    with pytest.raises(ValueError, match="3600"):
        parse_duration(3600)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "PT0S"),
        (60, "PT1M"),
        (90, "PT1M30S"),
        (1800, "PT30M"),
        (3600, "PT1H"),
        (5400, "PT1H30M"),
        (86400, "P1D"),
        (129600, "P1DT12H"),
        (0.25, "PT0.25S"),
        (59.9999999, "PT1M"),
    ],
)
def test_format_duration_writes_iso8601(seconds, expected):
    assert format_duration(seconds) == expected


@pytest.mark.parametrize("text", ["PT30M", "PT2H", "P1D", "P1DT12H", "PT1.5H", "PT90S", "P2W", "P1Y"])
def test_format_duration_round_trips_through_parse(text):
    assert parse_duration(format_duration(parse_duration(text))) == pytest.approx(parse_duration(text))


@pytest.mark.parametrize("seconds", [-1, math.inf, math.nan])
def test_format_duration_rejects_negative_or_infinite_seconds(seconds):
    with pytest.raises(ValueError, match="invalid duration"):
        format_duration(seconds)


def test_count_puts_the_noun_in_the_number_it_needs() -> None:
    from torc_client.core.units import count

    assert [count(n, "job") for n in (0, 1, 2, 1500)] == ["0 jobs", "1 job", "2 jobs", "1,500 jobs"]
    assert count(1, "GPU") == "1 GPU" and count(3, "input file") == "3 input files"
    assert count(2, "index", "indexes") == "2 indexes"


def test_format_span_writes_hours_minutes_and_seconds_as_torc_reports_do() -> None:
    from torc_client.core.units import format_span

    assert [format_span(s) for s in (0, 12.4, 240, 9015, 90061)] == ["0s", "12s", "4m 0s", "2h 30m 15s", "25h 1m 1s"]
