"""Registry snapshots: loading, saving, refreshing (against a local server, synthetic data)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from crps_evidence.config import get_settings
from crps_evidence.current.clients import TRIAL_COLUMNS, ClinicalTrialsClient, studies_frame
from crps_evidence.current.trials import (
    CRPS_CONDITION,
    INTERVENTION_TERMS,
    fetch_trials,
    load_trials,
    refresh_trials,
    save_trials,
    snapshot_path,
    trial_query,
)
from crps_evidence.errors import ClientError, DataError
from crps_evidence.evidence.paths import data_dir

FIXTURES = Path(__file__).parent / "fixtures" / "http"
TREATMENTS = set(pd.read_csv(data_dir() / "treatments.csv")["id"])
"""Every treatment has registry terms (issue 17: one recorded search per treatment)."""


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def client(httpserver, tmp_path) -> ClinicalTrialsClient:
    settings = get_settings().replace(
        ctgov_url=httpserver.url_for("/ctgov").rstrip("/"),
        cache_dir=tmp_path / "cache",
        read_timeout=2.0,
        retries=1,
        backoff_factor=0.0,
    )
    return ClinicalTrialsClient(settings)


def synthetic_frame() -> pd.DataFrame:
    studies = fixture_json("ctgov_page1.json")["studies"] + fixture_json("ctgov_page2.json")[
        "studies"]
    return studies_frame(studies)


def test_every_treatment_has_search_terms():
    assert set(INTERVENTION_TERMS) == TREATMENTS
    for terms in INTERVENTION_TERMS.values():
        assert terms and all(t.strip() == t and t for t in terms)


def test_trial_query():
    query = trial_query("mirror-therapy")
    assert query == {
        "query.cond": CRPS_CONDITION,
        "query.intr": '"mirror therapy" OR "mirror visual feedback"',
    }
    with pytest.raises(ValueError, match="no registry search terms"):
        trial_query("no-such-treatment")


def test_no_snapshot_gives_none(tmp_path):
    for treatment in TREATMENTS:
        assert load_trials(treatment, directory=tmp_path) is None


def test_shipped_snapshots_are_not_synthetic():
    """No snapshot is shipped; any that is added later must be real registry data."""
    folder = data_dir() / "trials"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        assert "SYNTHETIC" not in text and "NCT000000" not in text, path
        assert load_trials(path.stem) is not None


@pytest.mark.parametrize("bad", ["../etc", "Ketamine", "ketamine/x", "", "a--b"])
def test_malformed_treatment_id(bad, tmp_path):
    with pytest.raises(ValueError, match="malformed treatment id"):
        load_trials(bad, directory=tmp_path)


def test_save_and_load_round_trip(tmp_path):
    frame = synthetic_frame()
    query = trial_query("ketamine")
    path = save_trials("ketamine", frame, query=query, fetched="2026-01-02T03:04:05Z",
                       endpoint="http://127.0.0.1/ctgov/studies", directory=tmp_path)
    assert path == snapshot_path("ketamine", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["ketamine.json"]  # no temp files left
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["fetched"] == "2026-01-02T03:04:05Z"
    assert payload["query"] == query and payload["count"] == 3
    assert payload["records"][0]["title"].startswith("SYNTHETIC")
    loaded = load_trials("ketamine", directory=tmp_path)
    assert tuple(loaded.columns) == TRIAL_COLUMNS
    pd.testing.assert_frame_equal(loaded, frame, check_dtype=True)
    assert loaded.attrs["fetched"] == "2026-01-02T03:04:05Z"
    assert loaded.attrs["query"] == query


def test_load_through_project_root(minidata, monkeypatch):
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    assert load_trials("scs") is None
    save_trials("scs", synthetic_frame(), query=trial_query("scs"))
    assert (minidata / "data" / "trials" / "scs.json").is_file()
    assert len(load_trials("scs")) == 3


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"treatment": "scs", "fetched": "x", "query": {}}', "missing key"),
        ('{"treatment": "tens", "fetched": "x", "query": {}, "records": []}', "another treatment"),
        ('{"treatment": "scs", "fetched": "x", "query": {}, "records": [{"nct_id": "NCT1"}]}',
         "no valid NCT id"),
    ],
)
def test_broken_snapshot(tmp_path, content, message):
    (tmp_path / "scs.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_trials("scs", directory=tmp_path)


def test_save_rejects_bad_table(tmp_path):
    with pytest.raises(ValueError, match="lacks column"):
        save_trials("scs", pd.DataFrame({"nct_id": ["NCT00000000"]}), query={},
                    directory=tmp_path)
    frame = synthetic_frame()
    frame.loc[0, "nct_id"] = "NCT12"
    with pytest.raises(ValueError, match="invalid NCT id"):
        save_trials("scs", frame, query={}, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_refresh_follows_pages_and_writes_snapshot(httpserver, client, tmp_path):
    query = trial_query("ketamine")
    base = {**query, "pageSize": "100", "format": "json"}
    httpserver.expect_request("/ctgov/studies", query_string=base).respond_with_json(
        fixture_json("ctgov_page1.json"))
    httpserver.expect_request(
        "/ctgov/studies", query_string={**base, "pageToken": "SYNTHETIC-TOKEN-2"}
    ).respond_with_json(fixture_json("ctgov_page2.json"))
    snapshots = tmp_path / "trials"
    path = refresh_trials("ketamine", client, directory=snapshots)
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["treatment"] == "ketamine"
    assert payload["query"] == query
    assert payload["endpoint"].endswith("/ctgov/studies")
    assert payload["fetched"].endswith("Z")
    assert [r["nct_id"] for r in payload["records"]] == ["NCT00000001", "NCT00000000",
                                                         "NCT00000002"]
    assert len(httpserver.log) == 2


def test_refresh_bypasses_cache(httpserver, client):
    httpserver.expect_request("/ctgov/studies").respond_with_json(
        fixture_json("ctgov_page2.json"))
    fetch_trials("scs", client)
    fetch_trials("scs", client)
    assert len(httpserver.log) == 2
    fetch_trials("scs", client, refresh=False)
    assert len(httpserver.log) == 2


def test_failed_refresh_keeps_old_snapshot(httpserver, client, tmp_path):
    folder = tmp_path / "trials"
    save_trials("scs", synthetic_frame(), query=trial_query("scs"), directory=folder)
    before = (folder / "scs.json").read_bytes()
    httpserver.expect_request("/ctgov/studies").respond_with_data("down", status=500)
    with pytest.raises(ClientError, match="HTTP 500"):
        refresh_trials("scs", client, directory=folder)
    assert (folder / "scs.json").read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["scs.json"]


def test_unknown_treatment_makes_no_request(httpserver, client):
    with pytest.raises(ValueError, match="no registry search terms"):
        fetch_trials("no-such-treatment", client)
    assert httpserver.log == []


# ------------------------------------------------- registrations read by hand (no API access)

_READ_HEADER = ("treatment_id,registry_id,title,status_as_shown,source_url,source_kind,seen,"
                "note\n")


def _write_records(minidata: Path, *rows: str) -> Path:
    path = minidata / "data" / "registry_records.csv"
    path.write_text(_READ_HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_read_records_are_per_treatment_and_sorted(minidata, monkeypatch) -> None:
    from crps_evidence.current.trials import read_records

    path = _write_records(
        minidata,
        "alpha,NCT00000002,SYNTHETIC second,Recruiting,https://example.org/2,aggregator,"
        "2026-12-01,synthetic",
        "alpha,ISRCTN00000001,SYNTHETIC first,,https://example.org/1,registry,2026-12-01,",
        "beta,NCT00000003,SYNTHETIC other,Completed,https://example.org/3,registry,2026-12-01,",
    )
    records = read_records("alpha", path)
    assert list(records["registry_id"]) == ["ISRCTN00000001", "NCT00000002"]
    assert pd.isna(records.loc[0, "status_as_shown"])  # empty stays empty, never a guess
    assert read_records("gamma", path).empty


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("nobody,NCT00000001,SYNTHETIC,,https://example.org,registry,2026-12-01,", "treatment_id"),
        ("alpha,NCT123,SYNTHETIC,,https://example.org,registry,2026-12-01,", "registry_id"),
        ("alpha,NCT00000001,SYNTHETIC,,https://example.org,blog,2026-12-01,", "source_kind"),
        ("alpha,NCT00000001,SYNTHETIC,,https://example.org,registry,yesterday,", "seen"),
    ],
)
def test_bad_read_record_names_file_line_and_field(minidata, row: str, field: str) -> None:
    from crps_evidence.current.trials import read_records

    path = _write_records(minidata, row)
    with pytest.raises(DataError) as exc:
        read_records("alpha", path)
    assert exc.value.path == path
    assert exc.value.line == 2
    assert exc.value.field == field


def test_trials_table_shows_read_records_labelled_as_such(minidata, monkeypatch) -> None:
    from crps_evidence import notebook as nb

    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    _write_records(
        minidata,
        "alpha,NCT00000002,SYNTHETIC <b>title</b>,Recruiting,https://example.org/2,aggregator,"
        "2026-12-01,synthetic",
    )
    shown = nb.trials_table("alpha").data
    assert "NCT00000002" in shown and "2026-12-01" in shown
    assert "&lt;b&gt;title&lt;/b&gt;" in shown  # page text is escaped, never run as HTML
    assert "a copy on another site" in shown
    assert 'href="https://clinicaltrials.gov/study/NCT00000002"' in shown  # its own record
    assert "recruiting" in shown and "Recruiting" not in shown
    assert "no trial registration" in nb.trials_table("beta").data


def test_registry_tables_link_each_record_to_its_own_registry_page_and_say_where_it_was_read():
    import html as markup

    from crps_evidence.book import notebook as nb
    from crps_evidence.current.trials import read_records, registry_url

    records = read_records("ketamine")
    html = markup.unescape(nb._records_html(records))
    for row in records.itertuples():
        url = registry_url(row.registry_id)
        if url:
            assert f'href="{url}"' in html, row.registry_id
        assert f'href="{row.source_url}"' in html, row.registry_id
    assert "ENROLLING_BY_INVITATION" not in html and "enrolling by invitation" in html
