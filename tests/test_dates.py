import pandas as pd
import pytest

from nlp.sources.dates import parse_datetime


@pytest.mark.parametrize("value, utc", [
    ("2024-03-05T10:00:00+09:00", "2024-03-05 01:00"),
    ("2024/03/05 14:00", "2024-03-05 05:00"),  # no zone: Asia/Tokyo
    ("2024年3月5日", "2024-03-04 15:00"),
    ("2024年3月5日 10時5分", "2024-03-05 01:05"),
    ("2024年3月5日(火) 10:05", "2024-03-05 01:05"),
    ("2024-03-05 10:00:00Z", "2024-03-05 10:00"),
    (1709600400, "2024-03-05 01:00"),
])
def test_parse_datetime(value, utc):
    assert parse_datetime(value, "Asia/Tokyo") == pd.Timestamp(utc, tz="UTC")


@pytest.mark.parametrize("value", ["", None, "昨日の夜", "2024-13-45"])
def test_unparsable_dates_raise_with_a_reason(value):
    with pytest.raises(ValueError, match="date"):
        parse_datetime(value, "Asia/Tokyo")
