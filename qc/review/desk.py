"""What reviewers do to a stored call, each in one transaction with its audit entry: judge a hit
(真命中/误命中), add a finding the machine missed (漏检), lock a month; and the call as it now stands
(``show``: the SPEC §2 result with its review state).

The stored result always holds the call's **final** state — its score, its hits' statuses and
deductions after review — so every report (monthly sheets, examples, the listening list) reads
final scores without knowing about review. What the machine said is kept: the first score version
is the machine's, and each verdict records the hit's machine status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from qc.inspection.lexicon import Lexicon
from qc.review import audit
from qc.review.appeals import GIVES_POINTS_BACK, AppealActions, appeal_dict
from qc.review.final import Final, final_score
from qc.review.users import LEADS, REVIEWERS, ReviewError, User, hash_password, load_user, new_user, require_role
from qc.store import Store
from qc.store.db import call_and_result
from qc.store.tables import (
    appeals,
    hits,
    manual_findings,
    month_locks,
    results,
    score_versions,
    users,
    verdicts,
)

REASONS = ("asr", "rule", "context", "other")


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _now() -> str:
    return now_utc().isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Priced:
    """A call priced under its review state (verdicts by hit_id, manual findings, points given back)."""

    current: Mapping[str, Any]  # the stored results row
    verdicts: Mapping[str, Mapping[str, Any]]
    final: Final


class ReviewDesk(AppealActions):
    """Review actions on one database, priced with one lexicon's scorecard (``lexicon`` None: the
    actions that price nothing — users, month locks, showing a call)."""

    def __init__(self, store: Store, lexicon: Lexicon | None = None) -> None:
        self.store = store
        self._lexicon = lexicon

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            raise ReviewError("this action re-prices calls and needs the lexicon")  # a caller's mistake
        return self._lexicon

    # --- users -------------------------------------------------------------------------------

    def add_user(
        self, name: str, role: str, password: str, agent_id: str | None = None, team: str | None = None
    ) -> User:
        user = new_user(name, role, agent_id, team)
        secret = hash_password(password)
        with self.store.transaction() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
                raise ReviewError(f"user {name!r} exists already")
            now = _now()
            conn.execute(users.insert().values(**asdict(user), password_hash=secret, created_at=now))
            audit.append(conn, now, "qc", "user add", name, {"role": role, "agent_id": agent_id, "team": team})
        return user

    # --- verdicts and missed findings --------------------------------------------------------

    def judge_hit(
        self,
        call_id: str,
        hit_id: str,
        verdict: bool,
        by: str,
        reason: str | None = None,
        comment: str | None = None,
        replace: bool = False,
    ) -> tuple[float, float]:
        """Record a verdict on one hit and re-price the call; returns (score before, score after).

        Refused: an unknown user, call or hit; a user who is not a reviewer; a locked month; a hit
        already judged (``replace`` lets a QA lead or admin change it)."""
        if reason is not None and reason not in REASONS:
            raise ReviewError(f"reason {reason!r} is not one of {', '.join(REASONS)}")
        with self.store.transaction() as conn:
            user = load_user(conn, by)
            require_role(user, REVIEWERS, "judging a hit")
            self._call(conn, call_id)
            hit = (
                conn.execute(select(hits).where(hits.c.call_id == call_id, hits.c.hit_id == hit_id)).mappings().first()
            )
            if hit is None:
                known = conn.execute(select(hits.c.hit_id).where(hits.c.call_id == call_id).order_by(hits.c.seq))
                listed = ", ".join(h for (h,) in known) or "none"
                raise ReviewError(f"call {call_id} has no hit {hit_id!r} (its hits: {listed})")
            before = (
                conn.execute(select(verdicts).where(verdicts.c.call_id == call_id, verdicts.c.hit_id == hit_id))
                .mappings()
                .first()
            )
            if before is not None and not replace:
                said = "true" if before["verdict"] else "false"
                raise ReviewError(
                    f"hit {hit_id} of call {call_id} was judged {said} by {before['by_user']} at {before['at']}; "
                    "a QA lead may change it with --replace"
                )
            if before is not None:
                require_role(user, LEADS, "changing a verdict")
            now = _now()
            row = {
                "call_id": call_id, "hit_id": hit_id, "verdict": verdict, "reason": reason, "comment": comment,
                "by_user": by, "at": now, "rule_id": hit["rule_id"], "utterance": hit["utterance"],
                "text": hit["text"], "machine_status": before["machine_status"] if before else hit["status"],
            }  # fmt: skip
            conn.execute(delete(verdicts).where(verdicts.c.call_id == call_id, verdicts.c.hit_id == hit_id))
            conn.execute(verdicts.insert().values(**row))
            old, new = self._reprice(conn, call_id, "review", by, now)
            audit.append(
                conn, now, by, "verdict", f"{call_id}/{hit_id}",
                {"verdict": verdict, "reason": reason, "comment": comment, "replaced": before is not None,
                 "score": [old, new]},
            )  # fmt: skip
        return old, new

    def add_finding(
        self,
        call_id: str,
        rule_id: str | None,
        by: str,
        comment: str,
        utterance: int | None = None,
        points: float | None = None,
        item: str | None = None,
    ) -> tuple[float, float]:
        """A violation the machine missed (漏检), charged at ``points`` or its rule's price; or, with
        ``item`` and no rule, points taken on a 考评项 by the inspector's judgement (an attitude the
        words do not show, say) — ``points`` is then required."""
        if (rule_id is None) == (item is None):
            raise ReviewError("a missed finding names either a rule (--rule) or a 考评项 (--item)")
        if item is not None:
            names = [i.name for i in self.lexicon.scorecard.items]
            if item not in names:
                raise ReviewError(f"unknown 考评项 {item!r} (scorecard.yaml has: {', '.join(names) or 'none'})")
            if points is None or points <= 0:
                raise ReviewError(f"scoring the 考评项 {item} by hand needs --points (more than 0)")
            rule_id = f"ITEM:{item}"
        else:
            try:
                self.lexicon.rule(rule_id)
            except KeyError:
                raise ReviewError(
                    f"unknown rule {rule_id!r} (rule ids are in lexicons/rules and the profile)"
                ) from None
        if not comment or not comment.strip():
            raise ReviewError("a missed finding needs --comment saying what was missed")
        if points is not None and points < 0:
            raise ReviewError(f"points must be 0 or more, got {points}")
        with self.store.transaction() as conn:
            user = load_user(conn, by)
            require_role(user, REVIEWERS, "adding a missed finding")
            transcript = self._call(conn, call_id)["transcript"]
            count = len(transcript.get("utterances", [])) if isinstance(transcript, dict) else 0
            if utterance is not None and not 0 <= utterance < count:
                raise ReviewError(f"call {call_id} has utterances 0–{count - 1}, not {utterance}")
            now = _now()
            conn.execute(
                manual_findings.insert().values(
                    call_id=call_id, rule_id=rule_id, item=item, utterance=utterance, points=points,
                    comment=comment, by_user=by, at=now,
                )
            )  # fmt: skip
            old, new = self._reprice(conn, call_id, "review", by, now)
            audit.append(
                conn, now, by, "manual finding", call_id,
                {"rule_id": rule_id, "utterance": utterance, "points": points, "comment": comment, "score": [old, new]},
            )  # fmt: skip
        return old, new

    def carry_over(self, call_ids: list[str], cause: str = "rescore", by: str = "qc") -> list[str]:
        """After calls were scored again: re-apply their verdicts and missed findings, so human work
        survives a re-score. A verdict carries over to the hit with the same hit_id (same rule,
        utterance and quoted words); one whose hit is gone stays in the history and is returned,
        described, for the caller to report."""
        stale: list[str] = []
        if not call_ids:
            return stale
        with self.store.transaction() as conn:
            judged = set()
            for chunk in (call_ids[i : i + 500] for i in range(0, len(call_ids), 500)):
                judged |= {c for (c,) in conn.execute(select(verdicts.c.call_id).where(verdicts.c.call_id.in_(chunk)))}
                judged |= {
                    c
                    for (c,) in conn.execute(
                        select(manual_findings.c.call_id).where(manual_findings.c.call_id.in_(chunk))
                    )
                }
            now = _now()
            for call_id in sorted(judged):
                present = {h for (h,) in conn.execute(select(hits.c.hit_id).where(hits.c.call_id == call_id))}
                for v in conn.execute(select(verdicts).where(verdicts.c.call_id == call_id)).mappings():
                    if v["hit_id"] not in present:
                        stale.append(
                            f"{call_id}: verdict on {v['hit_id']} ({v['rule_id']} 「{v['text']}」) has no hit now"
                        )
                self._reprice(conn, call_id, cause, by, now)
        return stale

    def lock_month(self, month: str, by: str) -> None:
        with self.store.transaction() as conn:
            user = load_user(conn, by)
            require_role(user, LEADS, "locking a month")
            if conn.execute(select(month_locks).where(month_locks.c.month == month)).first() is not None:
                raise ReviewError(f"{month} is locked already")
            now = _now()
            conn.execute(month_locks.insert().values(month=month, by_user=by, at=now))
            audit.append(conn, now, by, "month lock", month, {})

    # --- reading -------------------------------------------------------------------------------

    def show(self, call_id: str) -> dict[str, Any]:
        """The call's current result (SPEC §2, final score) with ``review``: verdicts, manual
        findings, score versions, appeals."""
        with self.store.engine.connect() as conn:
            row = self._call(conn, call_id, writing=False)
            hit_rows = conn.execute(select(hits).where(hits.c.call_id == call_id).order_by(hits.c.seq)).mappings()
            judged = conn.execute(select(verdicts).where(verdicts.c.call_id == call_id)).mappings().all()
            manual = conn.execute(
                select(manual_findings).where(manual_findings.c.call_id == call_id).order_by(manual_findings.c.id)
            ).mappings()
            versions = conn.execute(
                select(score_versions).where(score_versions.c.call_id == call_id).order_by(score_versions.c.n)
            ).mappings()
            moment = now_utc()
            appealed = [
                appeal_dict(a, moment)
                for a in conn.execute(
                    select(appeals).where(appeals.c.call_id == call_id).order_by(appeals.c.id)
                ).mappings()
            ]
            drop = {"call_id", "seq", "id"}
            return {
                "call_id": row["call_id"], "agent_id": row["agent_id"], "agent_name": row["agent_name"],
                "started_at": row["started_at"], "ruleset": row["ruleset"], "score": row["score"],
                "veto": bool(row["veto"]), "checks": row["checks"],
                "polite": {"count": row["polite_count"], "terms": row["polite_terms"]},
                "hits": [{k: v for k, v in dict(h).items() if k not in drop} for h in hit_rows],
                "items": row["item_scores"] or {}, "warnings": row["warnings"],
                "review": {
                    "verdicts": {
                        v["hit_id"]: {"verdict": bool(v["verdict"]), "reason": v["reason"], "comment": v["comment"],
                                      "by": v["by_user"], "at": v["at"]}
                        for v in judged
                    },
                    "manual": [
                        {"rule_id": m["rule_id"], "item": m["item"], "utterance": m["utterance"], "points": m["points"],
                         "comment": m["comment"], "by": m["by_user"], "at": m["at"]}
                        for m in manual
                    ],
                    "versions": [
                        {"n": v["n"], "score": v["score"], "veto": bool(v["veto"]), "cause": v["cause"],
                         "ruleset": v["ruleset"], "by": v["by_user"], "at": v["at"]}
                        for v in versions
                    ],
                    "appeals": appealed,
                },
            }  # fmt: skip

    # --- inside a transaction ------------------------------------------------------------------

    def _call(self, conn: Connection, call_id: str, writing: bool = True) -> dict[str, Any]:
        """The stored call and its result; for a change, refused when its month is locked."""
        row = conn.execute(call_and_result(call_id)).mappings().first()
        if row is None:
            raise ReviewError(f"unknown call {call_id!r} (no scored call with that id in {self.store.display()})")
        if writing:
            locked = conn.execute(select(month_locks).where(month_locks.c.month == row["month"])).mappings().first()
            if locked is not None:
                who = f"{locked['by_user']} at {locked['at']}"
                raise ReviewError(f"{row['month']} was locked by {who}: its results stay as they are")
        return dict(row)

    def _priced(self, conn: Connection, call_id: str, judged: Mapping[str, Mapping[str, Any]] | None = None) -> Priced:
        """The call priced under its stored verdicts (or ``judged`` instead), manual findings and the
        points its decided appeals gave back (a call appeal, or a partial one: an accepted hit
        appeal is a false verdict already)."""
        current = conn.execute(select(results).where(results.c.call_id == call_id)).mappings().one()
        hit_rows = conn.execute(select(hits).where(hits.c.call_id == call_id).order_by(hits.c.seq)).mappings().all()
        if judged is None:
            judged = {
                v["hit_id"]: v for v in conn.execute(select(verdicts).where(verdicts.c.call_id == call_id)).mappings()
            }
        manual = (
            conn.execute(
                select(manual_findings).where(manual_findings.c.call_id == call_id).order_by(manual_findings.c.id)
            )
            .mappings()
            .all()
        )
        given_back = conn.execute(
            select(func.coalesce(func.sum(appeals.c.points), 0.0)).where(
                appeals.c.call_id == call_id, GIVES_POINTS_BACK
            )
        ).scalar()
        final = final_score(hit_rows, judged, manual, self.lexicon, float(given_back or 0.0))
        return Priced(current, judged, final)

    def _reprice(self, conn: Connection, call_id: str, cause: str, by: str, now: str) -> tuple[float, float]:
        """Re-price the call under its review state; store the final state and a new score version
        (the machine's score becomes version 1 the first time)."""
        priced = self._priced(conn, call_id)
        current, final = priced.current, priced.final
        for hit_id, h in final.hits.items():
            conn.execute(
                update(hits)
                .where(hits.c.call_id == call_id, hits.c.hit_id == hit_id)
                .values(status=h.status, deduction=h.deduction, veto=h.veto)
            )
        conn.execute(
            update(results)
            .where(results.c.call_id == call_id)
            .values(
                score=final.score,
                veto=final.veto,
                item_scores={name: asdict(s) for name, s in final.items.items()} or current["item_scores"],
            )
        )
        last = conn.execute(select(func.max(score_versions.c.n)).where(score_versions.c.call_id == call_id)).scalar()
        if last is None:
            conn.execute(
                score_versions.insert().values(
                    call_id=call_id, n=1, score=current["score"], veto=current["veto"], cause="auto",
                    ruleset=current["ruleset"], by_user=None, at=current["scored_at"],
                )
            )  # fmt: skip
            last = 1
        conn.execute(
            score_versions.insert().values(
                call_id=call_id, n=last + 1, score=final.score, veto=final.veto, cause=cause,
                ruleset=self.lexicon.version, by_user=by, at=now,
            )
        )  # fmt: skip
        return float(current["score"]), float(final.score)
