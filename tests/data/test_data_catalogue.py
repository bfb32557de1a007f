"""The catalogue: description, owner, keywords and column descriptions per dataset;
search by name, keyword or tag, owner and column name; freshness."""

import pandas as pd


def test_describe_and_search_by_name_keyword_owner_tag_and_column(data_json, gannet,
                                                                   tmp_path):
    pd.DataFrame({"customer_id": [1], "tenure": [3]}).to_parquet(tmp_path / "c.parquet")
    data_json("add", tmp_path / "c.parquet", "--name", "churn", "--tag", "gold")
    (tmp_path / "img.bin").write_bytes(b"\x00")
    data_json("add", tmp_path / "img.bin", "--name", "images")
    described = data_json("describe", "churn", "--description", "Customers who left",
                          "--owner", "ana", "--keyword", "customers", "--keyword", "pii",
                          "--column", "tenure=Months as a customer")
    assert described["keywords"] == ["customers", "pii"]
    assert described["column_descriptions"] == {"tenure": "Months as a customer"}
    data_json("describe", "images", "--owner", "bo")

    def names(*args):
        return [d["name"] for d in data_json("search", *args)]

    assert names("CHU") == ["churn"]
    assert names("--owner", "bo") == ["images"]
    assert names("--tag", "pii") == ["churn"]
    assert names("--tag", "gold") == ["churn"]  # a version tag
    assert names("--column", "tenure") == ["churn"]
    assert names("customer_id") == ["churn"]
    assert names() == ["churn", "images"]
    assert names("nothing") == []
    table = gannet("data", "search", "churn")
    assert table.exit_code == 0 and "Customers who left" in table.output


def test_describing_a_dataset_that_does_not_exist_is_not_found(gannet):
    result = gannet("data", "describe", "ghost", "--owner", "x")
    assert result.exit_code == 4 and "ghost" in result.output
    bad = gannet("data", "describe", "ghost", "--column", "no-equals")
    assert bad.exit_code == 2


def test_search_takes_like_wildcards_literally(data_json, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    for name in ("a_b", "axb"):
        data_json("add", tmp_path / "f.txt", "--name", name)
    assert [d["name"] for d in data_json("search", "_")] == ["a_b"]
    assert [d["name"] for d in data_json("search", "%")] == []
