"""The bloc's rules as pure functions over plain data.

Reading numbers (:mod:`rules.numbers`), the configuration (:mod:`rules.config`),
scoring (:mod:`rules.scoring`), ranking (:mod:`rules.ranking`), awards
(:mod:`rules.awards`), votes (:mod:`rules.voting`) and reminders
(:mod:`rules.reminders`). Nothing here talks to a chat, a database or a clock.
"""
