"""Appeals (申诉): an agent contests one hit or a whole call; the team lead looks first, the QA lead
decides.

The path an appeal takes, and who may move it::

    submitted (level 1) ── team lead or QA lead: forward ──▶ submitted (level 2)
          │                                                   │
          ├── team lead or QA lead: reject ──▶ rejected       ├── QA lead: accept | partial | reject
          ├── QA lead: accept | partial | reject              │
          ├── the agent: withdraw ──▶ withdrawn ◀─────────────┤
          └── no decision by the deadline ──▶ expired ◀───────┘

An agent may appeal within ``QC_APPEAL_DAYS`` (7) of the call's evaluation, and an appeal not
decided within as many days of its opening expires. Accepting a hit appeal is a false verdict on
that hit (it stays, rejected, at 0 points — and survives re-scoring like any verdict); accepting a
call appeal, or a partial decision, gives points back. When the call's month is locked its sheet
must not change: the decision is recorded, and the points it moves become an adjustment in the
first month not locked (the ``adjustments`` table), shown there as such.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from qc.config import appeal_days
from qc.review import audit
from qc.review.users import LEADS, ReviewError, User, load_user, team_of
from qc.store.tables import adjustments, appeals, hits, month_locks, verdicts

if TYPE_CHECKING:
    from qc.review.desk import ReviewDesk

OPEN = "submitted"
STATES = ("submitted", "accepted", "partial", "rejected", "withdrawn", "expired")
DECISIONS = ("forward", "accept", "partial", "reject")
_FINAL_STATE = {"accept": "accepted", "partial": "partial", "reject": "rejected"}


# Appeals whose decision gives points back on top of the verdicts: a call appeal accepted, or any
# partial decision (an accepted hit appeal is a false verdict on the hit, priced as such).
GIVES_POINTS_BACK = (appeals.c.state == "partial") | ((appeals.c.state == "accepted") & appeals.c.hit_id.is_(None))


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def next_open_month(conn: Connection, month: str) -> str:
    """The first month after ``month`` that is not locked: where a late change is shown."""
    locked = {m for (m,) in conn.execute(select(month_locks.c.month))}
    year, mon = int(month[:4]), int(month[5:7])
    while True:
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
        candidate = f"{year}-{mon:02d}"
        if candidate not in locked:
            return candidate


def appeal_dict(row: Any, now: datetime | None = None) -> dict[str, Any]:
    """An appeal as shown (qc show --json, the console); an open one past its deadline reads as
    expired even before anyone touched it."""
    out = {k: row[k] for k in row.keys()}  # noqa: SIM118 — a RowMapping
    if out["state"] == OPEN and now is not None and now > _parse(out["deadline"]):
        out["state"] = "expired"
    return out


class AppealActions:
    """The appeal actions of a review desk (mixed into ``ReviewDesk``)."""

    def open_appeal(
        self: ReviewDesk,
        call_id: str,
        by: str,
        reason: str,
        hit_id: str | None = None,
        points: float | None = None,
        now: datetime | None = None,
    ) -> int:
        """Open an appeal against one hit or (``hit_id`` None) the whole call; returns its id.

        Refused: an unknown call or hit; a user who is neither the call's agent, their team lead
        nor a QA lead; a closed appeal window; an appeal already open on the same hit or call; a
        hit that costs nothing and is no veto (there is nothing to give back)."""
        if not reason or not reason.strip():
            raise ReviewError("an appeal needs --reason saying why the evaluation is wrong")
        if points is not None and points <= 0:
            raise ReviewError(f"the points asked back must be more than 0, got {points}")
        moment = now or _clock()
        days = appeal_days()
        self.expire_overdue(moment)
        with self.store.transaction() as conn:
            user = load_user(conn, by)
            call = self._call(conn, call_id, writing=False)
            _may_appeal(conn, user, call["agent_id"])
            evaluated = _evaluated_at(conn, call)
            if moment > evaluated + timedelta(days=days):
                closed = _stamp(evaluated + timedelta(days=days))
                raise ReviewError(f"the appeal window of call {call_id} closed at {closed} ({days} days after scoring)")
            if hit_id is not None:
                hit = conn.execute(
                    select(hits.c.deduction, hits.c.veto, hits.c.status).where(
                        hits.c.call_id == call_id, hits.c.hit_id == hit_id
                    )
                ).first()
                if hit is None:
                    raise ReviewError(f"call {call_id} has no hit {hit_id!r} (see `qc show {call_id}`)")
                if not hit.deduction and not hit.veto:
                    raise ReviewError(f"hit {hit_id} costs no points ({hit.status}): there is nothing to appeal")
            pending = conn.execute(
                select(appeals.c.id, appeals.c.deadline).where(
                    appeals.c.call_id == call_id,
                    appeals.c.hit_id.is_(None) if hit_id is None else appeals.c.hit_id == hit_id,
                    appeals.c.state == OPEN,
                )
            ).first()
            if pending is not None and moment <= _parse(pending.deadline):
                what = f"hit {hit_id}" if hit_id else f"call {call_id}"
                raise ReviewError(f"appeal #{pending.id} on {what} is still open")
            stamp = _stamp(moment)
            result = conn.execute(
                appeals.insert().values(
                    call_id=call_id, hit_id=hit_id, agent_id=call["agent_id"], month=call["month"], reason=reason,
                    proposed_points=points, state=OPEN, level=1, opened_by=by, opened_at=stamp,
                    deadline=_stamp(moment + timedelta(days=days)),
                )
            )  # fmt: skip
            appeal_id = int(result.inserted_primary_key[0])
            audit.append(
                conn, stamp, by, "appeal open", f"{call_id}/{hit_id or 'call'}",
                {"appeal": appeal_id, "reason": reason, "points": points},
            )  # fmt: skip
        return appeal_id

    def decide_appeal(
        self: ReviewDesk,
        appeal_id: int,
        by: str,
        decision: str,
        comment: str,
        points: float | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Move an open appeal: ``forward`` (level 1 → the QA lead), ``accept``, ``partial`` (with
        ``points`` given back) or ``reject``. Returns the appeal as it now stands, with ``score``
        [before, after] when the decision re-priced the call, or ``adjustment`` (points, month)
        when its month was locked."""
        if decision not in DECISIONS:
            raise ReviewError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        if not comment or not comment.strip():
            raise ReviewError("a decision needs --comment giving its grounds")
        if points is not None and points <= 0:
            raise ReviewError(f"points given back must be more than 0, got {points}")
        moment = now or _clock()
        self.expire_overdue(moment)
        with self.store.transaction() as conn:
            user = load_user(conn, by)
            row = self._open_appeal_row(conn, appeal_id, moment)
            _may_decide(conn, user, row, decision)
            stamp = _stamp(moment)
            if decision == "forward":
                conn.execute(
                    update(appeals)
                    .where(appeals.c.id == appeal_id)
                    .values(level=2, forwarded_by=by, forwarded_at=stamp, forward_comment=comment)
                )
                audit.append(conn, stamp, by, "appeal forward", f"#{appeal_id}", {"comment": comment})
                return self._appeal(conn, appeal_id, moment)
            given = self._points_given(conn, row, decision, points)
            conn.execute(
                update(appeals)
                .where(appeals.c.id == appeal_id)
                .values(
                    state=_FINAL_STATE[decision], decided_by=by, decided_at=stamp, decision_comment=comment,
                    points=given,
                )
            )  # fmt: skip
            call = self._call(conn, row["call_id"], writing=False)
            detail: dict[str, Any] = {"decision": decision, "comment": comment, "points": given}
            out_extra: dict[str, Any] = {}
            if decision != "reject":
                locked = conn.execute(select(month_locks.c.month).where(month_locks.c.month == call["month"])).first()
                if locked is None:
                    if decision == "accept" and row["hit_id"] is not None:
                        self._false_verdict(conn, row, by, stamp, comment)
                    before, after = self._reprice(conn, row["call_id"], "appeal", by, stamp)
                    detail["score"] = out_extra["score"] = [before, after]
                else:
                    change = self._late_change(conn, row, decision, given)
                    month = next_open_month(conn, call["month"])
                    conn.execute(
                        adjustments.insert().values(
                            call_id=row["call_id"], agent_id=row["agent_id"], call_month=call["month"], month=month,
                            points=change, cause="appeal", appeal_id=appeal_id, comment=comment, by_user=by, at=stamp,
                        )
                    )  # fmt: skip
                    detail["adjustment"] = out_extra["adjustment"] = {"points": change, "month": month}
            audit.append(conn, stamp, by, f"appeal {decision}", f"#{appeal_id}", detail)
            return {**self._appeal(conn, appeal_id, moment), **out_extra}

    def withdraw_appeal(self: ReviewDesk, appeal_id: int, by: str, now: datetime | None = None) -> dict[str, Any]:
        """The agent takes an open appeal back (its opener, or the call's agent)."""
        moment = now or _clock()
        self.expire_overdue(moment)
        with self.store.transaction() as conn:
            user = load_user(conn, by)
            row = self._open_appeal_row(conn, appeal_id, moment)
            if by != row["opened_by"] and not (user.role == "agent" and user.agent_id == row["agent_id"]):
                raise ReviewError(f"only {row['opened_by']} (who opened it) may withdraw appeal #{appeal_id}")
            stamp = _stamp(moment)
            conn.execute(
                update(appeals)
                .where(appeals.c.id == appeal_id)
                .values(state="withdrawn", decided_by=by, decided_at=stamp)
            )
            audit.append(conn, stamp, by, "appeal withdraw", f"#{appeal_id}", {})
            return self._appeal(conn, appeal_id, moment)

    def list_appeals(
        self: ReviewDesk,
        call_id: str | None = None,
        agent_id: str | None = None,
        month: str | None = None,
        state: str | None = None,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Appeals, oldest first, filtered; an open one past its deadline is listed as expired."""
        moment = now or _clock()
        query = select(appeals).order_by(appeals.c.id)
        for column, value in ((appeals.c.call_id, call_id), (appeals.c.agent_id, agent_id), (appeals.c.month, month)):
            if value is not None:
                query = query.where(column == value)
        with self.store.engine.connect() as conn:
            rows = [appeal_dict(r, moment) for r in conn.execute(query).mappings()]
        return [r for r in rows if state is None or r["state"] == state]

    # --- inside a transaction ------------------------------------------------------------------

    def _appeal(self: ReviewDesk, conn: Connection, appeal_id: int, moment: datetime) -> dict[str, Any]:
        return appeal_dict(conn.execute(select(appeals).where(appeals.c.id == appeal_id)).mappings().one(), moment)

    def _open_appeal_row(self: ReviewDesk, conn: Connection, appeal_id: int, moment: datetime) -> Any:
        row = conn.execute(select(appeals).where(appeals.c.id == appeal_id)).mappings().first()
        if row is None:
            raise ReviewError(f"unknown appeal #{appeal_id}")
        self._still_open(conn, row, moment)
        return row

    def _still_open(self: ReviewDesk, conn: Connection, row: Any, moment: datetime) -> None:
        """Refuse an appeal that is closed, or past its deadline (expired)."""
        if row["state"] == "expired" or (row["state"] == OPEN and moment > _parse(row["deadline"])):
            raise ReviewError(f"appeal #{row['id']} expired at {row['deadline']} without a decision")
        if row["state"] != OPEN:
            raise ReviewError(f"appeal #{row['id']} is {row['state']} already")

    def expire_overdue(self: ReviewDesk, now: datetime | None = None) -> list[int]:
        """Mark every open appeal past its deadline as expired (each with its audit entry); returns
        their ids. Reads already show them expired; this makes the table say so too."""
        stamp = _stamp(now or _clock())
        with self.store.transaction() as conn:
            overdue = [
                (i, d)
                for i, d in conn.execute(
                    select(appeals.c.id, appeals.c.deadline).where(appeals.c.state == OPEN, appeals.c.deadline < stamp)
                )
            ]
            for appeal_id, deadline in overdue:
                conn.execute(update(appeals).where(appeals.c.id == appeal_id).values(state="expired", decided_at=stamp))
                audit.append(conn, stamp, "qc", "appeal expire", f"#{appeal_id}", {"deadline": deadline})
        return [i for i, _ in overdue]

    def _points_given(self: ReviewDesk, conn: Connection, row: Any, decision: str, points: float | None) -> float:
        """Points the decision gives back: a partial decision's ``points``; an accepted call appeal's
        ``points`` or what the agent asked; an accepted hit appeal's hit deduction."""
        if decision == "partial":
            if points is None:
                raise ReviewError("a partial decision needs --points (how many points are given back)")
            return points
        if decision == "accept" and row["hit_id"] is None:
            given = points if points is not None else row["proposed_points"]
            if given is None:
                raise ReviewError(f"appeal #{row['id']} asked no points back: accept it with --points")
            return float(given)
        if decision == "accept":
            hit = conn.execute(
                select(hits.c.deduction).where(hits.c.call_id == row["call_id"], hits.c.hit_id == row["hit_id"])
            ).first()
            return float(hit.deduction) if hit is not None else 0.0
        return 0.0

    def _false_verdict(self: ReviewDesk, conn: Connection, row: Any, by: str, stamp: str, comment: str) -> None:
        """An accepted hit appeal is a false verdict on the hit, replacing any earlier verdict."""
        hit = (
            conn.execute(select(hits).where(hits.c.call_id == row["call_id"], hits.c.hit_id == row["hit_id"]))
            .mappings()
            .first()
        )
        if hit is None:
            raise ReviewError(f"call {row['call_id']} has no hit {row['hit_id']!r} any more (re-scored since)")
        before = (
            conn.execute(
                select(verdicts).where(verdicts.c.call_id == row["call_id"], verdicts.c.hit_id == row["hit_id"])
            )
            .mappings()
            .first()
        )
        conn.execute(verdicts.delete().where(verdicts.c.call_id == row["call_id"], verdicts.c.hit_id == row["hit_id"]))
        conn.execute(
            verdicts.insert().values(
                call_id=row["call_id"], hit_id=row["hit_id"], verdict=False, reason="other",
                comment=f"申诉 #{row['id']} 改判：{comment}", by_user=by, at=stamp, rule_id=hit["rule_id"],
                utterance=hit["utterance"], text=hit["text"],
                machine_status=before["machine_status"] if before else hit["status"],
            )
        )  # fmt: skip

    def _late_change(self: ReviewDesk, conn: Connection, row: Any, decision: str, given: float) -> float:
        """Points a decision on a locked month's call moves: an accepted hit appeal is priced as
        the false verdict would price it (the stored result stays as it was)."""
        if decision == "accept" and row["hit_id"] is not None:
            current = self._priced(conn, row["call_id"])
            judged = {**current.verdicts, row["hit_id"]: {"verdict": False, "machine_status": "confirmed"}}
            return round(self._priced(conn, row["call_id"], judged).final.score - current.final.score, 2)
        return given


def _clock() -> datetime:
    from qc.review.desk import now_utc

    return now_utc()


def _evaluated_at(conn: Connection, call: dict[str, Any]) -> datetime:
    """When the agent's evaluation came out: the machine's score (version 1 once reviewed)."""
    from qc.store.tables import score_versions

    first = conn.execute(
        select(func.min(score_versions.c.at)).where(score_versions.c.call_id == call["call_id"])
    ).scalar()
    return _parse(first or call["scored_at"])


def _may_appeal(conn: Connection, user: User, agent_id: str) -> None:
    if user.role in LEADS:
        return
    if user.role == "agent" and user.agent_id == agent_id:
        return
    if user.role == "team_lead" and user.team is not None and team_of(conn, agent_id) == user.team:
        return
    raise ReviewError(f"user {user.name!r} ({user.role}) may not appeal a call of agent {agent_id}")


def _may_decide(conn: Connection, user: User, row: Any, decision: str) -> None:
    if user.role in LEADS:
        return
    if user.role == "team_lead":
        if row["level"] != 1:
            raise ReviewError(f"appeal #{row['id']} is with the QA lead now; a team lead decided it already")
        if user.team is None or team_of(conn, row["agent_id"]) != user.team:
            raise ReviewError(f"agent {row['agent_id']} is not in {user.name!r}'s team")
        if decision not in ("forward", "reject"):
            raise ReviewError("a team lead forwards an appeal to the QA lead or rejects it; the QA lead decides")
        return
    raise ReviewError(f"user {user.name!r} is {user.role}; deciding an appeal needs a team lead or a QA lead")
