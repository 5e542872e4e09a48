"""Lexicons: the rulebook as data (patterns, rules, scorecard), loaded and validated up front."""
