"""Reading own-data files as their authors meant them: separators, decimal marks, encodings,
thousands separators, repeated column names and Parquet's nested columns."""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from losslab.cli import app
from losslab.errors import DataError
from losslab.problems import Problem, load_table, problem_from_file


def _rows(n: int = 30) -> list[str]:
    """``n`` rows of a numeric feature and a binary target, comma-separated."""
    return [f"{i * 0.5 + 3},{i % 2}" for i in range(n)]


# ------------------------------------------------------------------ separators and decimal marks


def test_sep_overrides_the_sniffed_separator(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("name\tcity, country\nann\tParis, France\nbob\tLyon, France\n")
    assert list(load_table(path).columns) == ["name\tcity", " country"]  # the comma in the header wins the sniffing
    for tab in ("\t", r"\t", "tab"):
        frame = load_table(path, sep=tab)
        assert list(frame.columns) == ["name", "city, country"]
        assert frame["city, country"].tolist() == ["Paris, France", "Lyon, France"]


def test_decimal_overrides_the_sniffed_decimal_mark(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x|y\n1,5|2\n2,25|3\n")
    assert load_table(path)["x"].tolist() == ["1,5", "2,25"]  # decimal commas are sniffed in ';' files only
    assert load_table(path, decimal=",")["x"].tolist() == [1.5, 2.25]
    comma_file = tmp_path / "quoted.csv"
    comma_file.write_text('a,b\n"1,5",2\n"3,5",4\n')
    assert load_table(comma_file, decimal=",")["a"].tolist() == [1.5, 3.5]


def test_sep_decimal_and_encoding_reach_problem_from_file(tmp_path):
    path = tmp_path / "d.csv"
    lines = ["x|label"] + [f"{i},5|{'café' if i % 2 else 'thé'}" for i in range(30)]
    path.write_bytes("\n".join(lines).encode("latin-1"))
    problem = problem_from_file(path, "label", sep="|", decimal=",", encoding="latin-1")
    assert problem.class_names == ("café", "thé")
    assert problem.preparation["scaled_columns"] == ["x"]
    again = Problem.from_file(path, "label", sep="|", decimal=",", encoding="latin-1")
    np.testing.assert_array_equal(again.X_train, problem.X_train)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sep": ";;"}, r"sep must be one character, such as ',', ';', '\|' or '\\t' \(a tab\); got ';;'"),
        ({"sep": ""}, "sep must be one character"),
        ({"decimal": ".."}, "decimal must be one character, '.' or ','; got '..'"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'; give one of Python's encoding names, such as utf-8, latin-1"),
    ],
)
def test_bad_reading_options_are_refused_with_the_fix(tmp_path, options, message):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(DataError, match=message):
        load_table(path, **options)


def test_reading_options_are_refused_for_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"x": [1.0], "y": [2.0]}).to_parquet(path)
    with pytest.raises(DataError, match="sep and encoding apply to CSV and TSV files, not to the Parquet file .*leave them out"):
        load_table(path, sep=";", encoding="latin-1")


# ------------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("bom_and_codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_a_utf16_file_with_a_byte_order_mark_is_read(tmp_path, bom_and_codec):
    bom, codec = bom_and_codec
    path = tmp_path / "excel.csv"
    path.write_bytes(bom + "ville;prix\nSète;1,5\nNîmes;2,5\n".encode(codec))
    frame = load_table(path)
    assert list(frame.columns) == ["ville", "prix"]  # no BOM left in the first name
    assert frame["ville"].tolist() == ["Sète", "Nîmes"] and frame["prix"].tolist() == [1.5, 2.5]


def test_a_utf16_file_without_a_byte_order_mark_is_named_not_called_binary(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("x,y\n1,2\n3,4\n".encode("utf-16-le"))
    with pytest.raises(DataError, match=r"looks like UTF-16 text without a byte-order mark; pass --encoding utf-16-le "
                                        r"\(encoding='utf-16-le' in Python\)"):
        load_table(path)
    assert load_table(path, encoding="utf-16-le")["y"].tolist() == [2, 4]


def test_a_latin1_file_is_refused_naming_the_encoding_fix_then_read_with_it(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("city,y\ncafé,1\nthé,2\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        load_table(path)
    message = str(info.value)
    assert "is not UTF-8 text (byte 0xe9 at position 10)" in message
    assert "--encoding latin-1 (encoding='latin-1' in Python)" in message and "\n" not in message
    assert load_table(path, encoding="latin-1")["city"].tolist() == ["café", "thé"]
    assert load_table(path, encoding="cp1252")["city"].tolist() == ["café", "thé"]


def test_an_encoding_that_does_not_fit_is_named(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("city,y\ncafé,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="is not ascii text .*give the file's encoding with --encoding"):
        load_table(path, encoding="ascii")


def test_a_compressed_utf16_file_asks_for_its_encoding(tmp_path):
    path = tmp_path / "d.csv.gz"
    pd.DataFrame({"x": [1, 2], "y": [3, 4]}).to_csv(path, index=False, encoding="utf-16")
    with pytest.raises(DataError, match="is UTF-16 text, not UTF-8 .*pass --encoding utf-16"):
        load_table(path)
    assert load_table(path, encoding="utf-16")["y"].tolist() == [3, 4]


# --------------------------------------------------------------------------- thousands separators


def test_quoted_numbers_with_thousands_separators_are_numbers(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text('units,price,code,y\n"10,000","1,234.5",a1,0\n950,12.5,b2,1\n"1,000,000",0.5,c3,0\n')
    frame = load_table(path)
    assert frame["units"].dtype == np.float64 and frame["units"].tolist() == [10_000.0, 950.0, 1_000_000.0]
    assert frame["price"].tolist() == [1234.5, 12.5, 0.5]
    assert frame["code"].tolist() == ["a1", "b2", "c3"]


def test_a_thousands_number_feature_is_scaled_not_one_hot_encoded(tmp_path):
    path = tmp_path / "houses.csv"
    prices = [f'"{1000 + 250 * i:,}"' for i in range(40)]
    path.write_text("area,y\n" + "\n".join(f"{p},{i * 1.5}" for i, p in enumerate(prices)) + "\n")
    problem = Problem.from_file(path, "y")
    assert problem.feature_names == ("area",)
    assert problem.preparation["scaler_mean"][0] > 1000


def test_text_that_only_looks_like_thousands_in_part_stays_text(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('a,b,c\n"1,5","10,000",x\n"2,25","0,500",y\n')
    frame = load_table(path)
    assert frame["a"].tolist() == ["1,5", "2,25"]  # not groups of three digits
    assert frame["b"].tolist() == ["10,000", "0,500"]  # a group cannot start with 0


def test_thousands_dots_with_decimal_commas(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("preis;menge\n10.000,5;2\n999,25;3\n1.234.567;4\n")
    frame = load_table(path)
    assert frame["preis"].tolist() == [10000.5, 999.25, 1234567.0]


# ----------------------------------------------------------------------------- repeated names


def test_a_csv_header_naming_two_columns_alike_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,a,y\n1,2,3,4\n5,6,7,8\n")
    with pytest.raises(DataError, match=r"has more than one column named 'a'; rename them in the file's header"):
        load_table(path)
    fine = tmp_path / "fine.csv"
    fine.write_text("a,a.1,y\n1,2,3\n")  # a column that is really called a.1
    assert list(load_table(fine).columns) == ["a", "a.1", "y"]


def test_a_parquet_file_with_two_columns_of_one_name_is_refused(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])], names=["a", "a", "y"]), path)
    with pytest.raises(DataError, match="has more than one column named 'a'; rename them so each name is unique"):
        load_table(path)


# ------------------------------------------------------------------------------ nested columns


def test_a_parquet_list_column_is_refused_naming_the_fix(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"tags": [[1, 2], [3]] * 15, "x": np.arange(30.0) * 0.3, "y": [0, 1] * 15}).to_parquet(path)
    with pytest.raises(DataError, match=r"feature column 'tags' holds lists, not one value per row; .*DataFrame\.explode"
                                        r".*drop=\['tags'\]"):
        Problem.from_file(path, "y")
    assert Problem.from_file(path, "y", drop=["tags"]).feature_names == ("x",)


def test_parquet_records_and_list_targets_are_refused(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"meta": [{"k": 1}, {"k": 2}] * 15, "y": [0, 1] * 15,
                             "path": [[1.0, 2.0]] * 30, "x": np.arange(30.0)}), path)
    with pytest.raises(DataError, match="feature column 'meta' holds records"):
        Problem.from_file(path, "y", features=["meta", "x"])
    with pytest.raises(DataError, match="target 'path' holds lists, not one value per row; choose a target column"):
        Problem.from_file(path, "path", features=["x"])


# --------------------------------------------------------------------------------- the command line


def test_the_command_line_shows_a_data_note_as_one_note_line(tmp_path):
    path = tmp_path / "houses.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.uniform(50, 200, 60), "y": rng.normal(size=60)})
    frame.to_csv(path)  # with pandas' index: an unnamed column 0..59
    result = CliRunner().invoke(app, ["recommend", "--data", str(path), "--target", "y", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith(("warning:", "note:"))]
    assert notes == ["note: left out 1 column that cannot help predict: 'Unnamed: 0' is a row ID (a different whole "
                     "number in every row, 0 to 59); to choose the feature columns yourself, pass features=[...] "
                     "(--features on the command line)"]
