"""``gannet data diff``: files added, removed and changed; tables by schema and, with a
key, by rows added, removed and changed (DuckDB)."""

import pandas as pd
from data_files import make_tree


def test_files_added_removed_and_changed(data_json, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "1", "b.txt": "2"})
    data_json("add", src, "--name", "d")
    (src / "a.txt").write_text("one")
    (src / "b.txt").unlink()
    (src / "c.txt").write_text("3")
    data_json("add", src, "--name", "d")
    found = data_json("diff", "d@1", "d@2")
    assert [c["path"] for c in found["added"]] == ["c.txt"]
    assert [c["path"] for c in found["removed"]] == ["b.txt"]
    assert found["changed"] == [{"path": "a.txt", "old_size": 1, "new_size": 3}]
    assert found["tables"] == []


def test_tables_by_schema_and_by_rows_of_a_key(data_json, gannet, tmp_path):
    path = tmp_path / "people.parquet"
    pd.DataFrame({"id": [1, 2, 3], "age": [30, 40, 50], "city": ["a", "b", "c"]}).to_parquet(path)
    data_json("add", path, "--name", "people")
    pd.DataFrame({"id": [2, 3, 4], "age": [40, 51, 60], "score": [1.0, 2.0, 3.0]}).to_parquet(path)
    data_json("add", path, "--name", "people")
    [table] = data_json("diff", "people@1", "people@2", "--key", "id")["tables"]
    assert table["columns_added"] == ["score"] and table["columns_removed"] == ["city"]
    assert (table["rows_before"], table["rows_after"]) == (3, 3)
    assert (table["rows_added"], table["rows_removed"], table["rows_changed"]) == (1, 1, 1)
    assert (table["sample_added"], table["sample_removed"], table["sample_changed"]) == (
        [4], [1], [3])
    shown = gannet("data", "diff", "people@1", "people@2", "--key", "id")
    assert shown.exit_code == 0 and "Rows changed" in shown.output
    wrong = gannet("data", "diff", "people@1", "people@2", "--key", "nope")
    assert wrong.exit_code == 3 and "'nope'" in wrong.output and "age" in wrong.output


def test_csv_tables_with_a_type_change(data_json, tmp_path):
    src = make_tree(tmp_path / "src", {"t.csv": "id,v\n1,10\n2,20\n"})
    data_json("add", src, "--name", "c")
    (src / "t.csv").write_text("id,v\n1,10\n2,x\n")
    data_json("add", src, "--name", "c")
    [table] = data_json("diff", "c@1", "c@2", "--key", "id")["tables"]
    assert table["types_changed"] == {"v": ["BIGINT", "VARCHAR"]}
    assert table["rows_changed"] == 1
