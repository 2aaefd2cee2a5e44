import pytest

from consumers.reports.readonly_sql import NotReadOnly, check_read_only, run_read_only


@pytest.mark.parametrize("sql", [
    "DROP TABLE ai_calls",
    "SELECT 1; DROP TABLE ai_calls",
    "INSERT INTO ai_ratings SELECT * FROM ai_ratings",
    "SELECT 1 INTO OUTFILE '/tmp/x.csv'",
    "SET readonly = 0",
    "SELECT 'unterminated",
    "",
])
def test_anything_but_one_reading_statement_is_refused(sql):
    with pytest.raises(NotReadOnly):
        check_read_only(sql)


def test_semicolons_and_keywords_inside_literals_and_comments_are_fine():
    sql = "SELECT 'a; DROP TABLE x' AS s, `INTO OUTFILE` -- ; drop\n FROM system.one;"
    assert check_read_only(sql).endswith("FROM system.one")


def test_reads_run_and_rows_are_capped(store):
    result = run_read_only(store, "SELECT number FROM numbers(50)", max_rows=10)
    assert result.columns == ["number"]
    assert len(result.rows) == 10 and result.truncated


def test_clickhouse_readonly_mode_blocks_writes_that_pass_the_text_check(store):
    with pytest.raises(Exception, match="readonly"):
        run_read_only(store, "SELECT * FROM url('http://127.0.0.1:9/x', 'CSV', 'a String')")
    store.command("CREATE TABLE IF NOT EXISTS still_writable (a UInt8) ENGINE = Memory")
