"""`screening.rules.load_ruleset(rules_dir) -> RuleSet` and `RuleSet.evaluate(answers) -> Outcome`, where
the design names them for callers outside the app (scripts, the bench, other tools).

The rule engine itself lives in `screening/engine/` (`loading` reads the files, `rules` evaluates); this
module only hands those names on, so the public path stays when the engine's modules move.
"""

from __future__ import annotations

from .engine.loading import load_ruleset
from .engine.rules import Outcome, RuleSet, RuleSetError

__all__ = ["Outcome", "RuleSet", "RuleSetError", "load_ruleset"]
