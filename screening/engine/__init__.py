"""The rule engine: the rule language, the questionnaire and the rule set. Files in, an `Outcome` out.

- `conditions`: the condition language (one table of operators); `questionnaire`: steps, questions,
  visibility and validation; `rules`: the RuleSet and its evaluation; `roles`: the safety roles of levels
- `loading`, `schemas`, `yamlfile`, `errors`: reading the rule files, with every problem named
- `checks`, `safety`, `cases`, `sentences`, `translations`, `releases`: `screening rules check`, the
  safety lock, the translated rule sets and released versions
- `diff`, `answers`: what a rule change would change, over stored or random valid answer sets

May import: the standard library, PyYAML, jsonschema, textstat and Jinja2 (the report page), and other
modules of this package. Never Flask, WTForms or Babel, and nothing else of `screening`: whoever calls
the engine passes it the paths it needs (the rules folder, the templates folder).
"""
