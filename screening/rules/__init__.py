"""`screening.rules.load_ruleset(rules_dir) -> RuleSet` and `RuleSet.evaluate(answers) -> Outcome`, where
the design names them for callers outside the app (scripts, the bench, other tools).

The rule engine itself lives in `screening/engine/` (`loading` reads the files, `rules` evaluates); this
package only hands those names on, so the public path stays while the engine's modules move. It is a
package, not a rules.py beside the engine, so that git follows the old screening/rules.py to
screening/engine/rules.py when other branches merge. May import `screening.engine` only.
"""

from __future__ import annotations

from ..engine.loading import load_ruleset
from ..engine.rules import Outcome, RuleSet, RuleSetError

__all__ = ["Outcome", "RuleSet", "RuleSetError", "load_ruleset"]
