"""Quality inspection (抽检): sampling rules, a rubric, automatic pre-checks and reviews.

`settings` reads `config/qa.yaml`; `sampling` decides which resolved conversations are
reviewed, deterministically and with the reason; `prechecks` fills in what the log already
knows; `reviews` records a reviewer's scores as a `qa.reviewed` event in the conversation's own
log (auditable, on every store, no table of its own) and computes scores per agent and the
agreement between reviewers. `service` is what the console calls.
"""
