"""Reports for supervisors and operators, computed from the conversation log.

Each module is pure over what `source.read_conversations` returns (a conversation with its
events): `staffing` (volume heatmap, forecast, Erlang C), `unanswered` (what the bot could not
answer, clustered), `hotspots` (complaint and hand-off reasons, week on week); `export`
writes any of them as CSV that spreadsheets cannot mistake for formulas. `service` is the one
entry point the console pages, the API and the CLI all call.
"""
