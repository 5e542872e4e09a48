"""Human review: users and roles, verdicts on hits, findings the machine missed, score versions and
an audit log with a hash chain. The console (issue 12) builds its screens on this package."""
