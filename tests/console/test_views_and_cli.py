"""What the call page builds from a result (turns with hits marked, masking that keeps offsets) and the
`qc serve` command's wiring (127.0.0.1 unless --host, the lexicon and database it was given)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.console import views

pytestmark = pytest.mark.issue(12)

TRANSCRIPT = {
    "utterances": [
        {"speaker": "agent", "text": "您好，很高兴为您服务。", "start": 0.5, "end": 2.0},
        {"speaker": "customer", "text": "我的电话是13812345678，你找领导去吧", "start": 2.5, "end": 6.0},
        {"speaker": "agent", "text": "这个我也不知道你找领导去", "start": 65.2, "end": 68.0},
    ]
}
HITS = [
    {"hit_id": "BAN-002@2:7-12", "utterance": 2, "text": "你找领导去"},
    {"hit_id": "NEG-002@2:4-7", "utterance": 2, "text": "不知道"},
    {"hit_id": "PRC-013@2", "utterance": 2, "text": "这个我也不知道你找领导去"},
    {"hit_id": "CLOSE-002@call", "utterance": None, "text": ""},
]


def test_each_hit_is_cut_out_of_its_turn():
    turns = views.turns(TRANSCRIPT, HITS, masked=False)
    assert [t.hits for t in turns] == [[], [], [0, 1, 2]]
    pieces = [(p.text, p.hits) for p in turns[2].pieces]
    assert pieces == [("这个我也", [2]), ("不知道", [1, 2]), ("你找领导去", [0, 2])]
    assert "".join(p.text for p in turns[2].pieces) == TRANSCRIPT["utterances"][2]["text"]
    assert turns[1].pieces[0].hits == []  # the customer quoting the phrase is no hit


def test_masking_keeps_every_hit_on_its_words():
    turns = views.turns(TRANSCRIPT, HITS, masked=True)
    customer = "".join(p.text for p in turns[1].pieces)
    assert (
        "13812345678" not in customer
        and "*" * 11 in customer
        and len(customer) == len(TRANSCRIPT["utterances"][1]["text"])
    )
    assert [(p.text, p.hits) for p in turns[2].pieces][-1] == ("你找领导去", [0, 2])


def test_a_hit_without_offsets_is_found_by_its_words():
    assert views.hit_span({"hit_id": "SUS-NONSTANDARD@0", "utterance": 0, "text": "高兴"}, "您好很高兴") == (3, 5)
    assert views.hit_span({"hit_id": "X@0:40-44", "utterance": 0, "text": "无"}, "您好") is None


@pytest.mark.parametrize("seconds,shown", [(None, ""), (0, "00:00"), (65.2, "01:05"), (3600, "60:00")])
def test_clock(seconds, shown):
    assert views.clock(seconds) == shown


def test_qc_serve_binds_localhost_and_loads_the_lexicon(monkeypatch, tmp_path):
    import uvicorn

    seen = {}

    def fake_run(app, **kwargs):  # noqa: ANN001, ANN003
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("QC_SECRET", "s" * 40)
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(cli, ["serve", "--db", db, "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    state = seen["app"].state.console
    assert state.store.url == db and state.lexicon.rules
    result = CliRunner().invoke(cli, ["serve", "--db", db, "--host", "0.0.0.0"])
    assert result.exit_code == 0 and seen["host"] == "0.0.0.0" and "secure-cookies" in result.output


def test_qc_serve_refuses_a_database_it_cannot_open(tmp_path, monkeypatch):
    monkeypatch.setenv("QC_SECRET", "s" * 40)
    result = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path / 'missing' / 'qc.db'}"])
    assert result.exit_code == 1 and "does not exist" in result.output
