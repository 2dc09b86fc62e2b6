"""Reading texts: lines, .txt and .csv uploads (header detection, label column), and the limits."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from playground.embeddings.inputs import MAX_TEXTS, InputError, parse_csv, parse_lines, parse_upload
from playground.embeddings.models import EmbeddingRun, Status
from tests.embeddings.conftest import post_run


def test_lines_are_stripped_and_blank_lines_skipped():
    parsed = parse_lines("  first text \n\n\r\nsecond text\n   \n")
    assert parsed.texts == ["first text", "second text"] and parsed.labels == []


def test_a_csv_header_is_recognised_and_its_columns_chosen_by_name():
    parsed = parse_csv("id,Label,Text\n1,pets,cats purr\n2,space,rockets fly\n")
    assert parsed.texts == ["cats purr", "rockets fly"]
    assert parsed.labels == ["pets", "space"]
    assert "header" in parsed.notes[0]


def test_a_csv_without_header_has_the_text_first_and_the_label_second():
    parsed = parse_csv("cats purr,pets\nrockets fly,space\n")
    assert parsed.texts == ["cats purr", "rockets fly"] and parsed.labels == ["pets", "space"]


def test_a_one_column_csv_has_no_labels():
    parsed = parse_csv("text\ncats purr\nrockets fly\n")
    assert parsed.texts == ["cats purr", "rockets fly"] and parsed.labels == []


def test_quoted_cells_may_hold_commas_quotes_and_line_breaks():
    parsed = parse_csv('text,label\n"one, two","a ""quoted"" label"\n"line one\nline two",x\n')
    assert parsed.texts == ["one, two", "line one\nline two"]
    assert parsed.labels == ['a "quoted" label', "x"]


def test_semicolons_and_tabs_are_recognised_as_separators():
    assert parse_csv("text;label\ncats, dogs;pets\n").texts == ["cats, dogs"]
    assert parse_upload("data.tsv", b"text\tlabel\ncats, dogs\tpets\n").labels == ["pets"]


def test_rows_without_text_are_left_out_and_counted():
    parsed = parse_csv("text,label\ncats purr,pets\n,orphan label\n\nrockets fly,space\n")
    assert parsed.texts == ["cats purr", "rockets fly"] and parsed.labels == ["pets", "space"]
    assert parsed.skipped == 1 and "1 row without text left out." in parsed.notes


def test_labels_only_where_some_are_given():
    assert parse_csv("text,label\ncats,\ndogs,\n").labels == []


def test_a_byte_order_mark_is_ignored():
    assert parse_upload("data.csv", "\ufefftext,label\ncats,pets\n".encode()).texts == ["cats"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("data.csv", b'text,label\n"never closed,x\n', "could not be read"),
        ("data.csv", "text\ncaf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("data.csv", b"text,label\n", "no texts"),
        ("data.csv", b"", "no rows"),
        ("data.xlsx", b"PK\x03\x04", "Upload a .txt file"),
        ("data.txt", b"\x00\x01binary", "binary"),
    ],
)
def test_files_that_cannot_be_used_say_why(name, data, message):
    with pytest.raises(InputError, match=message):
        parse_upload(name, data)


def test_more_than_the_limit_is_refused_with_the_count():
    with pytest.raises(InputError, match=f"There are 2,001 texts; a run can embed at most {MAX_TEXTS:,}"):
        parse_lines("\n".join(f"text {n}" for n in range(MAX_TEXTS + 1)))


def test_an_uploaded_csv_makes_a_labelled_run(client, member, demo_provider, create_url):
    client.force_login(member)
    upload = SimpleUploadedFile("pets.csv", b"text,label\ncats purr,pets\nrockets fly,space\n", "text/csv")
    response = client.post(create_url, {"provider": demo_provider.pk, "model": "demo-embed", "file": upload})
    assert response.status_code == 302
    run = EmbeddingRun.objects.get()
    assert run.status == Status.DONE and run.texts == ["cats purr", "rockets fly"] and run.labels == ["pets", "space"]


def errors_of(response, field: str) -> str:
    return str(response.context["form"].errors.get(field, ""))


def test_empty_input_is_refused_beside_the_text_box(client, member, demo_provider, create_url):
    client.force_login(member)
    response = post_run(client, create_url, demo_provider, "\n  \n")
    assert response.status_code == 400
    assert "Write the texts to embed" in errors_of(response, "texts")
    assert not EmbeddingRun.objects.exists()


def test_too_many_texts_are_refused_beside_the_text_box(client, member, demo_provider, create_url):
    client.force_login(member)
    response = post_run(client, create_url, demo_provider, "\n".join(f"t{n}" for n in range(2001)))
    assert response.status_code == 400
    assert "at most 2,000" in errors_of(response, "texts")
    page = response.content.decode()
    assert 'aria-invalid="true"' in page and "at most 2,000" in page


def test_a_bad_csv_is_refused_beside_the_file_field(client, member, demo_provider, create_url):
    client.force_login(member)
    upload = SimpleUploadedFile("bad.csv", b'text\n"oops\n', "text/csv")
    response = client.post(create_url, {"provider": demo_provider.pk, "model": "demo-embed", "file": upload})
    assert response.status_code == 400
    assert "could not be read" in errors_of(response, "file")


def test_text_box_and_file_together_are_refused(client, member, demo_provider, create_url):
    client.force_login(member)
    upload = SimpleUploadedFile("a.txt", b"one\n", "text/plain")
    response = client.post(
        create_url, {"provider": demo_provider.pk, "model": "demo-embed", "texts": "two", "file": upload}
    )
    assert "not both" in errors_of(response, "file")
