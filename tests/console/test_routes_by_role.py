"""Every route against every role (issue 12: roles enforced on every route and API call): what each
role may read, what it may change, and what a visitor without a session gets."""

from __future__ import annotations

import shutil

import pytest

from tests.console.conftest import MONTH, OTHER, OWN, ROLE_USER, TEAM, make_client, sign_in

pytestmark = pytest.mark.issue(12)

ROLES = ("admin", "qa_lead", "inspector", "team_lead", "agent")
ALL, REVIEWERS, NONE_ = (200,) * 5, (200, 200, 200, 403, 403), None

# route → expected status for admin, qa_lead, inspector, team_lead, agent (1024, team T1)
# fmt: off
READS = {
    "/": (303, 303, 303, 303, 303),
    "/api/session": ALL,
    "/queue": REVIEWERS,
    f"/queue?month={MONTH}&scope=all&status=all": REVIEWERS,
    "/api/queue": REVIEWERS,
    f"/calls/{OWN}": ALL,
    f"/calls/{OWN}/panel": ALL,
    f"/calls/{OWN}/audio": ALL,
    f"/calls/{OWN}/peaks": ALL,
    f"/api/calls/{OWN}": ALL,
    f"/calls/{TEAM}": (200, 200, 200, 200, 403),
    f"/api/calls/{TEAM}": (200, 200, 200, 200, 403),
    f"/calls/{OTHER}": (200, 200, 200, 403, 403),
    f"/calls/{OTHER}/panel": (200, 200, 200, 403, 403),
    f"/api/calls/{OTHER}": (200, 200, 200, 403, 403),
    f"/calls/{OTHER}/audio": (404, 404, 404, 403, 403),  # no recording: only those who may see it learn that
    f"/calls/{OTHER}/peaks": (404, 404, 404, 403, 403),
    "/calls/NO-SUCH-CALL": (404, 404, 404, 404, 404),
    "/api/calls/NO-SUCH-CALL": (404, 404, 404, 404, 404),
    "/agents": (200, 200, 200, 200, 303),
    "/agents/1024": ALL,
    "/agents/2048": (200, 200, 200, 200, 403),
    "/agents/3072": (200, 200, 200, 403, 403),
    "/api/appeals": ALL,
    "/api/appeals?agent_id=3072": (200, 200, 200, 403, 403),
    "/rules": REVIEWERS,
    "/rules/BAN-002": REVIEWERS,
    "/api/rules/precision": REVIEWERS,
    "/reports": REVIEWERS,
    f"/reports/monthly?month={MONTH}": REVIEWERS,
    f"/reports/examples?month={MONTH}&format=jsonl": REVIEWERS,
    f"/reports/sample?month={MONTH}&format=csv": REVIEWERS,
}
# fmt: on


@pytest.fixture(scope="module")
def clients(template_db, tmp_path_factory, lexicon):  # noqa: ANN001, ANN201
    path = tmp_path_factory.mktemp("matrix") / "qc.db"
    shutil.copy(template_db, path)
    made = {}
    for role in ROLES:
        client = make_client(f"sqlite:///{path}", lexicon)
        sign_in(client, ROLE_USER[role])
        made[role] = client
    yield made
    for client in made.values():
        client.close()


@pytest.mark.parametrize("route", list(READS))
@pytest.mark.parametrize("role", ROLES)
def test_reads(clients, route, role):
    expected = READS[route][ROLES.index(role)]
    response = clients[role].get(route, follow_redirects=False)
    assert response.status_code == expected, (role, route, response.text[:300])
    if expected == 403:
        assert "not yours" in response.text or "is for" in response.text


@pytest.mark.parametrize("route", [r for r in READS if r != "/"])
def test_every_route_needs_a_session(template_db, lexicon, route):
    client = make_client(f"sqlite:///{template_db}", lexicon)
    assert client.get(route, follow_redirects=False).status_code == 401
    page = client.get(route, headers={"Accept": "text/html"}, follow_redirects=False)
    if not route.startswith("/api/"):
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


# POST routes: (path, JSON body, expected status per role). Each case runs on a fresh database.
# fmt: off
CHANGES = {
    "verdict": (f"/api/calls/{OWN}/hits/BAN-002@2:7-12/verdict", {"verdict": "false", "reason": "context"},
                (200, 200, 200, 403, 403)),
    "verdict on a call not theirs": (f"/api/calls/{OTHER}/hits/NS-003@2:0-4/verdict", {"verdict": "true"},
                                     (200, 200, 200, 403, 403)),
    "missed finding": (f"/api/calls/{OWN}/findings", {"rule_id": "NS-007", "comment": "推诿", "utterance": 2},
                       (200, 200, 200, 403, 403)),
    "appeal a hit": (f"/api/calls/{OWN}/appeals", {"hit_id": "BAN-002@2:7-12", "reason": "我没有说这句话"},
                     (201, 201, 403, 201, 201)),
    "appeal another team's call": (f"/api/calls/{OTHER}/appeals", {"reason": "不服", "points": 3},
                                   (201, 201, 403, 403, 403)),
    "lock the month": (f"/api/months/{MONTH}/lock", {}, (200, 200, 403, 403, 403)),
}
# fmt: on


@pytest.mark.parametrize("case", list(CHANGES))
@pytest.mark.parametrize("role", ROLES)
def test_changes(db_url, lexicon, case, role):
    path, body, statuses = CHANGES[case]
    expected = statuses[ROLES.index(role)]
    client = make_client(db_url, lexicon)
    token = sign_in(client, ROLE_USER[role])
    assert client.post(path, json=body).status_code == 403  # no CSRF header: refused whatever the role
    response = client.post(path, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == expected, (role, case, response.text[:300])
